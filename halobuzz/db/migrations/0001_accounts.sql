-- Owner: halobuzz.accounts (users, sessions, refresh tokens) and halobuzz.accounts.audit.
-- Shipped migrations are never edited; add a new numbered file instead.

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash   TEXT NOT NULL,
    country         TEXT NOT NULL,               -- ISO 3166-1 alpha-2
    birth_date      TEXT NOT NULL,               -- YYYY-MM-DD
    role            TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user','host','moderator','admin')),
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','suspended','banned')),
    status_until    TEXT,                        -- end of a suspension, NULL = indefinite
    status_reason   TEXT,
    og_level        INTEGER NOT NULL DEFAULT 0 CHECK (og_level BETWEEN 0 AND 5),
    og_expires_at   TEXT,
    trust_score     INTEGER NOT NULL DEFAULT 50 CHECK (trust_score BETWEEN 0 AND 100),
    daily_spend_limit INTEGER,                   -- coins per UTC day; NULL = the default for the age
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,            -- the refresh-token family
    user_id         TEXT NOT NULL REFERENCES users(id),
    created_at      TEXT NOT NULL,
    revoked_at      TEXT,
    revoked_reason  TEXT,
    user_agent      TEXT,
    ip              TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE refresh_tokens (
    token_hash      TEXT PRIMARY KEY,            -- sha256 of the token; the token itself is never stored
    session_id      TEXT NOT NULL REFERENCES sessions(id),
    issued_at       TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT                         -- set when rotated; a second use is reuse
);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    actor_id        TEXT,
    actor           TEXT NOT NULL,               -- email, or 'cli:<os user>'
    action          TEXT NOT NULL,
    target_type     TEXT,
    target_id       TEXT,
    before_json     TEXT,
    after_json      TEXT,
    request_id      TEXT,
    source          TEXT NOT NULL CHECK (source IN ('api','cli','job'))
);
CREATE INDEX audit_log_target ON audit_log(target_type, target_id);
