-- Owner: halobuzz.games (tournaments: brackets, matches, prizes). Never edit once shipped.

CREATE TABLE tournaments (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    format       TEXT NOT NULL CHECK (format IN ('single','double')),
    status       TEXT NOT NULL CHECK (status IN ('registering','running','finished','cancelled')),
    entry_fee    INTEGER NOT NULL CHECK (entry_fee > 0),
    max_players  INTEGER NOT NULL CHECK (max_players BETWEEN 2 AND 256),
    match_seconds INTEGER NOT NULL,              -- a player who has not answered by then forfeits
    split_bps    TEXT NOT NULL,                  -- JSON list: prize shares of places 1, 2, 3 ...
    house_bps    INTEGER NOT NULL,
    seed_hash    TEXT NOT NULL,
    server_seed  TEXT NOT NULL,
    seeds_hash   TEXT,
    created_by   TEXT,
    starts_at    TEXT NOT NULL,
    next_at      TEXT,
    created_at   TEXT NOT NULL,
    finished_at  TEXT,
    outcome      TEXT
);
CREATE INDEX tournaments_due ON tournaments(next_at) WHERE status IN ('registering','running');

CREATE TABLE tournament_players (
    tournament_id TEXT NOT NULL REFERENCES tournaments(id),
    user_id      TEXT NOT NULL,
    seed         INTEGER,                        -- 1 = best; set when the bracket is drawn
    client_seed  TEXT NOT NULL,
    joined_at    TEXT NOT NULL,
    place        INTEGER,
    payout       INTEGER,
    PRIMARY KEY (tournament_id, user_id)
);

-- Each match has two slots; a slot is "set" once its player is known or known to be empty
-- (a bye, or the loser of a bye match). win_to/lose_to say where the winner and the loser go.
CREATE TABLE tournament_matches (
    tournament_id TEXT NOT NULL REFERENCES tournaments(id),
    match_no     INTEGER NOT NULL,
    bracket      TEXT NOT NULL CHECK (bracket IN ('W','L','F')),
    round        INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    player_a     TEXT,
    player_b     TEXT,
    a_set        INTEGER NOT NULL DEFAULT 0,
    b_set        INTEGER NOT NULL DEFAULT 0,
    win_to       INTEGER,
    win_slot     TEXT,
    lose_to      INTEGER,
    lose_slot    TEXT,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','ready','done')),
    winner       TEXT,
    loser        TEXT,
    how          TEXT,                           -- answer | wrong answer | no-show | bye | both absent
    puzzle       TEXT,                           -- JSON {text, answer}, drawn when the match is ready
    ready_at     TEXT,
    due_at       TEXT,
    done_at      TEXT,
    PRIMARY KEY (tournament_id, match_no)
);
CREATE INDEX tournament_matches_due ON tournament_matches(due_at) WHERE status = 'ready';
