-- Owner: halobuzz.festivals (festivals, their leaderboards, the ledger scan cursor and bonus
-- records), halobuzz.trust (admin verification). Never edit once shipped.

-- A festival is time-boxed in its own zone: `starts_local`/`ends_local` are wall-clock times in
-- `tz` (Nepal is UTC+5:45); `starts_at`/`ends_at` are the same instants in UTC, computed once
-- with zoneinfo when the festival is saved, so every query compares plain UTC strings.
CREATE TABLE festivals (
    id                  TEXT PRIMARY KEY,            -- slug, e.g. 'dashain-2083'
    kind                TEXT NOT NULL CHECK (kind IN ('dashain','tihar','holi','christmas','new-year','custom')),
    name_en             TEXT NOT NULL,
    name_ne             TEXT NOT NULL,
    banner_en           TEXT NOT NULL,
    banner_ne           TEXT NOT NULL,
    tz                  TEXT NOT NULL,
    starts_local        TEXT NOT NULL,               -- 'YYYY-MM-DDTHH:MM' in tz
    ends_local          TEXT NOT NULL,
    starts_at           TEXT NOT NULL,               -- UTC ISO-8601 with Z
    ends_at             TEXT NOT NULL,
    bs_start            TEXT,                        -- Bikram Sambat date of the first day, when given in BS
    purchase_bonus_bps  INTEGER NOT NULL DEFAULT 0 CHECK (purchase_bonus_bps BETWEEN 0 AND 10000),
    gift_bonus_bps      INTEGER NOT NULL DEFAULT 0 CHECK (gift_bonus_bps BETWEEN 0 AND 10000),
    gift_ids            TEXT NOT NULL DEFAULT '[]',  -- JSON list of themed gift ids (their windows follow the festival)
    cancelled           INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0,1)),
    announced           TEXT NOT NULL DEFAULT 'none' CHECK (announced IN ('none','started','ended')),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX festivals_window ON festivals(ends_at, starts_at);

-- Festival leaderboards: coins gifted (role 'gifter') and received (role 'host') during the window.
CREATE TABLE festival_scores (
    festival_id  TEXT NOT NULL REFERENCES festivals(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    role         TEXT NOT NULL CHECK (role IN ('gifter','host')),
    coins        INTEGER NOT NULL DEFAULT 0,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (festival_id, role, user_id)
);
CREATE INDEX festival_scores_top ON festival_scores(festival_id, role, coins DESC);

-- Bonus coins paid by a festival (one row per bonus ledger transaction): uplift and audit.
CREATE TABLE festival_bonuses (
    tx_id        INTEGER PRIMARY KEY REFERENCES ledger_tx(id),
    festival_id  TEXT NOT NULL REFERENCES festivals(id),
    source_tx_id INTEGER NOT NULL UNIQUE REFERENCES ledger_tx(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    source_kind  TEXT NOT NULL,                    -- gift | purchase
    base_coins   INTEGER NOT NULL,
    bonus_coins  INTEGER NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX festival_bonuses_festival ON festival_bonuses(festival_id, at);

-- The festival job reads the ledger forward from here (ledger_tx.id), once per transaction ever:
-- no index on ledger_tx is needed, and the cursor moves in the same transaction as the bonuses.
CREATE TABLE festival_cursor (
    name     TEXT PRIMARY KEY,
    tx_id    INTEGER NOT NULL
);
INSERT INTO festival_cursor(name, tx_id) SELECT 'ledger', COALESCE(MAX(id), 0) FROM ledger_tx;

-- Admin verification (the only way to the `verified` level). users.trust_verified mirrors it so
-- /me shows the level without another query.
ALTER TABLE users ADD COLUMN trust_verified INTEGER NOT NULL DEFAULT 0 CHECK (trust_verified IN (0,1));
CREATE TABLE trust_verifications (
    user_id      TEXT PRIMARY KEY REFERENCES users(id),
    verified_by  TEXT NOT NULL,
    note         TEXT,
    at           TEXT NOT NULL
);

-- Gift coins per UTC hour ('YYYY-MM-DDTHH'), filled by the festival ledger scan: the baseline
-- for festival uplift and the business dashboard.
CREATE TABLE gift_coins_hourly (
    hour    TEXT PRIMARY KEY,
    gifts   INTEGER NOT NULL DEFAULT 0,
    coins   INTEGER NOT NULL DEFAULT 0
);
