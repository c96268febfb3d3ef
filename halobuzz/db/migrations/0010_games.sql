-- Owner: halobuzz.games (rounds, entries, answers, moves, settings, daily loss, audit of packs).
-- Shipped migrations are never edited; add a new number instead.

-- Operator settings changed through the admin API (override the halobuzz.toml values).
CREATE TABLE game_settings (
    game         TEXT PRIMARY KEY,
    ai_win_bps   INTEGER CHECK (ai_win_bps IS NULL OR ai_win_bps BETWEEN 3500 AND 5500),
    house_bps    INTEGER CHECK (house_bps IS NULL OR house_bps BETWEEN 0 AND 5000),
    updated_at   TEXT NOT NULL,
    updated_by   TEXT NOT NULL
);

-- One row per round: the state machine. The server seed stays secret until the round ends
-- (revealed_at set); seed_hash is published from the start.
CREATE TABLE game_rounds (
    id           TEXT PRIMARY KEY,
    game         TEXT NOT NULL CHECK (game IN ('quiz','lottery','challenge','battle')),
    room_id      TEXT,                         -- stream the round is played in, if any
    created_by   TEXT,                         -- user id of the host/admin/player who opened it
    status       TEXT NOT NULL CHECK (status IN ('open','running','settled','refunded')),
    stake        INTEGER NOT NULL CHECK (stake > 0),  -- entry fee / ticket price / challenge stake
    ai_win_bps   INTEGER CHECK (ai_win_bps IS NULL OR ai_win_bps BETWEEN 3500 AND 5500),
    house_bps    INTEGER NOT NULL,
    seed_hash    TEXT NOT NULL,
    server_seed  TEXT NOT NULL,
    seeds_hash   TEXT,                         -- sha256 of the client seeds, fixed when play starts
    state        TEXT NOT NULL DEFAULT '{}',   -- JSON: questions, puzzle, schedule (game specific)
    outcome      TEXT,                         -- JSON: winners, payouts, draws (after settlement)
    ai_won       INTEGER,                      -- 1/0 when the fair draw at p decided the round
    resolution   TEXT,                         -- why it ended: settled / refunded: <reason>
    starts_at    TEXT,
    next_at      TEXT,                         -- when the server must next move this round
    created_at   TEXT NOT NULL,
    settled_at   TEXT,
    revealed_at  TEXT
);
CREATE INDEX game_rounds_due ON game_rounds(next_at) WHERE status IN ('open','running');
CREATE INDEX game_rounds_room ON game_rounds(room_id, created_at);
CREATE INDEX game_rounds_report ON game_rounds(game, settled_at) WHERE ai_won IS NOT NULL;

-- Stakes: a quiz entry, a lottery ticket, a challenger, a battle team member.
CREATE TABLE game_entries (
    round_id     TEXT NOT NULL REFERENCES game_rounds(id),
    entry_no     INTEGER NOT NULL,             -- order of entry (client seeds are hashed in this order)
    user_id      TEXT NOT NULL,
    client_seed  TEXT NOT NULL,
    stake        INTEGER NOT NULL,
    team         TEXT,                         -- battle: 'a' | 'b'
    ip           TEXT,
    created_at   TEXT NOT NULL,
    payout       INTEGER,                      -- set at settlement
    PRIMARY KEY (round_id, entry_no)
);
CREATE INDEX game_entries_user ON game_entries(user_id, round_id);

-- Answers measured on the server clock (ms after the question opened).
CREATE TABLE game_answers (
    round_id     TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    question     INTEGER NOT NULL,
    answer       TEXT NOT NULL,
    correct      INTEGER NOT NULL,
    ms           INTEGER NOT NULL,
    flagged      INTEGER NOT NULL DEFAULT 0,
    at           TEXT NOT NULL,
    PRIMARY KEY (round_id, user_id, question)
);

-- Every intent carries a client nonce; a nonce seen before is a replay.
CREATE TABLE game_nonces (
    user_id      TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (user_id, nonce)
);

-- Staked and won per user per UTC day: the compliance pack's daily loss limit.
CREATE TABLE game_daily (
    user_id      TEXT NOT NULL,
    day          TEXT NOT NULL,
    staked       INTEGER NOT NULL DEFAULT 0,
    won          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
);

-- Operator overrides of compliance packs seen at start (audited when they change).
CREATE TABLE game_compliance_applied (
    country      TEXT PRIMARY KEY,
    override     TEXT NOT NULL,
    applied_at   TEXT NOT NULL
);
