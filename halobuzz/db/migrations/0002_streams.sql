-- Owner: halobuzz.streams (streams, analytics, battles), halobuzz.chat (chat messages,
-- room moderation), halobuzz.dms (direct messages, blocks, privacy).
-- The money core (0003) UPDATEs streams.total_coins inside the gift transaction and reads
-- status/host_id; everything else here is written only by the owners above.

CREATE TABLE streams (
    id              TEXT PRIMARY KEY,            -- hb.ids.new()
    host_id         TEXT NOT NULL REFERENCES users(id),
    title           TEXT NOT NULL,
    category        TEXT,
    country         TEXT NOT NULL,               -- ISO 3166-1 alpha-2 (the host's shard serves it)
    status          TEXT NOT NULL CHECK (status IN ('pending','live','ended')),
    total_coins     INTEGER NOT NULL DEFAULT 0,  -- maintained by the gift transaction (money core)
    created_at      TEXT NOT NULL,
    started_at      TEXT,
    ended_at        TEXT,
    ended_reason    TEXT,                        -- 'host', 'heartbeat', 'admin', 'shutdown'
    last_heartbeat_at TEXT,
    -- host controls kept on the stream row
    slow_mode_seconds INTEGER NOT NULL DEFAULT 0 CHECK (slow_mode_seconds >= 0),
    chat_enabled    INTEGER NOT NULL DEFAULT 1 CHECK (chat_enabled IN (0,1)),
    pinned_message_id TEXT,
    -- analytics, stored when the stream ends (live values are kept in memory)
    peak_viewers    INTEGER NOT NULL DEFAULT 0,
    unique_viewers  INTEGER NOT NULL DEFAULT 0,
    duration_seconds INTEGER NOT NULL DEFAULT 0,
    chat_count      INTEGER NOT NULL DEFAULT 0,
    likes           INTEGER NOT NULL DEFAULT 0,
    gifts_json      TEXT NOT NULL DEFAULT '{}'   -- {"<giftId>": {"name", "count", "coins"}}
);
CREATE INDEX streams_status_country ON streams(status, country);
CREATE INDEX streams_host ON streams(host_id, created_at);

-- Chat: every accepted message is persisted (blocked ones are kept hidden for review).
CREATE TABLE chat_messages (
    id              TEXT PRIMARY KEY,
    stream_id       TEXT NOT NULL REFERENCES streams(id),
    user_id         TEXT NOT NULL REFERENCES users(id),
    text            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'visible' CHECK (status IN ('visible','deleted','blocked')),
    deleted_by      TEXT,
    moderation_action TEXT,                      -- allow | warn | block
    moderation_score REAL,
    moderation_model TEXT
);
CREATE INDEX chat_messages_stream ON chat_messages(stream_id, created_at);
CREATE INDEX chat_messages_user ON chat_messages(user_id, created_at);

-- Room moderation: per host (a host's moderators and bans apply to all of their streams).
CREATE TABLE room_moderators (
    host_id         TEXT NOT NULL REFERENCES users(id),
    user_id         TEXT NOT NULL REFERENCES users(id),
    added_at        TEXT NOT NULL,
    PRIMARY KEY (host_id, user_id)
);

CREATE TABLE room_sanctions (
    host_id         TEXT NOT NULL REFERENCES users(id),
    user_id         TEXT NOT NULL REFERENCES users(id),
    kind            TEXT NOT NULL CHECK (kind IN ('mute','ban')),
    until           TEXT,                        -- NULL = until lifted
    by_user_id      TEXT NOT NULL,
    reason          TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (host_id, user_id, kind)
);

-- PK battles between two live hosts.
CREATE TABLE battles (
    id              TEXT PRIMARY KEY,
    stream_a        TEXT NOT NULL REFERENCES streams(id),
    stream_b        TEXT NOT NULL REFERENCES streams(id),
    host_a          TEXT NOT NULL REFERENCES users(id),
    host_b          TEXT NOT NULL REFERENCES users(id),
    status          TEXT NOT NULL CHECK (status IN ('invited','active','finished','declined','cancelled')),
    duration_seconds INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    started_at      TEXT,
    ends_at         TEXT,
    finished_at     TEXT,
    score_a         INTEGER NOT NULL DEFAULT 0,
    score_b         INTEGER NOT NULL DEFAULT 0,
    winner_host_id  TEXT,                        -- NULL on a draw
    boosts_json     TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX battles_status ON battles(status);

-- Direct messages: one conversation per unordered pair (user_a < user_b).
CREATE TABLE dm_conversations (
    id              TEXT PRIMARY KEY,
    user_a          TEXT NOT NULL REFERENCES users(id),
    user_b          TEXT NOT NULL REFERENCES users(id),
    created_at      TEXT NOT NULL,
    last_message_at TEXT NOT NULL,
    last_message_id TEXT,
    a_last_read_at  TEXT,                        -- read receipts: newest message each side has read
    b_last_read_at  TEXT,
    a_unread        INTEGER NOT NULL DEFAULT 0,
    b_unread        INTEGER NOT NULL DEFAULT 0,
    CHECK (user_a < user_b),
    UNIQUE (user_a, user_b)
);
CREATE INDEX dm_conversations_a ON dm_conversations(user_a, last_message_at);
CREATE INDEX dm_conversations_b ON dm_conversations(user_b, last_message_at);

CREATE TABLE dm_messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES dm_conversations(id),
    sender_id       TEXT NOT NULL REFERENCES users(id),
    text            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX dm_messages_conversation ON dm_messages(conversation_id, id);

CREATE TABLE user_blocks (
    user_id         TEXT NOT NULL REFERENCES users(id),   -- who blocks
    blocked_id      TEXT NOT NULL REFERENCES users(id),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (user_id, blocked_id)
);

CREATE TABLE dm_settings (
    user_id         TEXT PRIMARY KEY REFERENCES users(id),
    privacy         TEXT NOT NULL DEFAULT 'everyone' CHECK (privacy IN ('everyone','nobody'))
);
