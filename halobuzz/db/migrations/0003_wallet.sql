-- Owner: halobuzz.wallet (ledger, wallets, holds, payouts, idempotency), halobuzz.gifts (catalog,
-- per-stream gifter board, combos), halobuzz.og (subscriptions). Never edit once shipped.

-- One row per ledger account. `balance` is a cache of SUM(ledger_entries.amount) for the
-- account, updated in the same transaction as the entries; `halobuzz doctor` re-checks it.
CREATE TABLE ledger_accounts (
    id          TEXT PRIMARY KEY,            -- '<user>:paid' | '<user>:bonus' | '<user>:held' | '<user>:earnings' | 'sys:<name>'
    owner_id    TEXT,                        -- user id, NULL for system accounts
    bucket      TEXT NOT NULL,               -- paid | bonus | held | earnings | system
    balance     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ledger_accounts_owner ON ledger_accounts(owner_id);

-- One row per coin movement. `key` is the idempotency key, unique forever.
CREATE TABLE ledger_tx (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,               -- gift | og_purchase | og_bonus | purchase | refund | grant | revoke | release | payout ...
    created_at  TEXT NOT NULL,
    memo        TEXT                         -- JSON: what a person needs to understand the movement
);

-- Entries of a transaction sum to zero. Every entry carries the hash of the previous entry
-- and of its own content, so any edit of history breaks the chain (`halobuzz ledger verify`).
CREATE TABLE ledger_entries (
    id          INTEGER PRIMARY KEY,
    tx_id       INTEGER NOT NULL REFERENCES ledger_tx(id),
    account_id  TEXT NOT NULL REFERENCES ledger_accounts(id),
    amount      INTEGER NOT NULL CHECK (amount <> 0),
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX ledger_entries_account ON ledger_entries(account_id, id);
CREATE INDEX ledger_entries_tx ON ledger_entries(tx_id);

-- Lifetime totals and today's spend per user (spend caps are enforced against this row
-- inside the same transaction as the spend).
CREATE TABLE wallet_stats (
    user_id      TEXT PRIMARY KEY REFERENCES users(id),
    total_earned INTEGER NOT NULL DEFAULT 0,
    total_spent  INTEGER NOT NULL DEFAULT 0,
    spend_day    TEXT,                        -- UTC date of spent_today
    spent_today  INTEGER NOT NULL DEFAULT 0
);

-- Host earnings stay held until release_at so chargebacks can still be clawed back.
CREATE TABLE earnings_holds (
    id          INTEGER PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    tx_id       INTEGER NOT NULL REFERENCES ledger_tx(id),
    amount      INTEGER NOT NULL CHECK (amount > 0),
    remaining   INTEGER NOT NULL,            -- what is still held (clawbacks reduce it)
    release_at  TEXT NOT NULL,
    released_at TEXT
);
CREATE INDEX earnings_holds_due ON earnings_holds(released_at, release_at);
CREATE INDEX earnings_holds_tx ON earnings_holds(tx_id);

CREATE TABLE payouts (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    amount      INTEGER NOT NULL CHECK (amount > 0),
    status      TEXT NOT NULL CHECK (status IN ('pending','approved','rejected')),
    requested_at TEXT NOT NULL,
    decided_at  TEXT,
    decided_by  TEXT,
    note        TEXT
);
CREATE INDEX payouts_status ON payouts(status, requested_at);

-- Responses to mutating money calls, so a retry with the same Idempotency-Key returns the
-- first answer and a different body under the same key is refused.
CREATE TABLE idempotency (
    user_id      TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    response     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;

CREATE TABLE gifts (
    id            TEXT PRIMARY KEY,           -- slug, e.g. 'rose'
    name          TEXT NOT NULL,
    price         INTEGER NOT NULL CHECK (price > 0),
    art           TEXT NOT NULL,              -- path under /assets/
    animation     TEXT NOT NULL DEFAULT 'basic' CHECK (animation IN ('basic','premium','legendary')),
    og_min_level  INTEGER NOT NULL DEFAULT 0 CHECK (og_min_level BETWEEN 0 AND 5),
    active        INTEGER NOT NULL DEFAULT 1,
    active_from   TEXT,                       -- festival window, NULL = always
    active_until  TEXT,
    sort          INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT NOT NULL
);

-- Coins each viewer has gifted in a stream: the Halo Throne is the top row.
CREATE TABLE stream_gifters (
    stream_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    coins       INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (stream_id, user_id)
) WITHOUT ROWID;
CREATE INDEX stream_gifters_top ON stream_gifters(stream_id, coins DESC);

CREATE TABLE stream_throne (
    stream_id   TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    coins       INTEGER NOT NULL,
    claimed_at  TEXT NOT NULL
);

-- Repeated sends of the same gift within a short window form a combo.
CREATE TABLE gift_combos (
    stream_id   TEXT NOT NULL,
    sender_id   TEXT NOT NULL,
    gift_id     TEXT NOT NULL,
    count       INTEGER NOT NULL,
    last_at     REAL NOT NULL,
    PRIMARY KEY (stream_id, sender_id)
) WITHOUT ROWID;

CREATE TABLE og_subscriptions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    tier        INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 5),
    price       INTEGER NOT NULL,
    daily_bonus INTEGER NOT NULL,
    starts_at   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    ended_at    TEXT,                         -- set on upgrade, expiry or revocation
    end_reason  TEXT,
    tx_id       INTEGER REFERENCES ledger_tx(id)
);
CREATE INDEX og_subscriptions_user ON og_subscriptions(user_id, expires_at);
CREATE INDEX og_subscriptions_open ON og_subscriptions(ended_at, expires_at);
