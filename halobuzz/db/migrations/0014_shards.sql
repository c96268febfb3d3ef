-- Owner: halobuzz.shards (cross-shard gifts: outbox, transfers out, transfers in).
-- Shipped migrations are never edited; add a new numbered file instead.

-- Messages to other shards, written in the same transaction as the coins they describe and
-- drained to JetStream by the publisher (a crash between COMMIT and publish loses nothing;
-- a crash between publish and marking it sent republishes under the same Nats-Msg-Id).
CREATE TABLE shard_outbox (
    id              INTEGER PRIMARY KEY,
    msg_id          TEXT NOT NULL UNIQUE,        -- JetStream Nats-Msg-Id (duplicate window) and our own key
    subject         TEXT NOT NULL,
    payload         TEXT NOT NULL,               -- compact JWS signed by this shard's key
    created_at      TEXT NOT NULL,
    published_at    TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX shard_outbox_unsent ON shard_outbox(id) WHERE published_at IS NULL;

-- Gifts from a viewer homed here to a stream on another shard. The coins sit in
-- sys:transit:<dest> until the destination's receipt settles (credited) or refunds (refused).
CREATE TABLE shard_transfers_out (
    id              TEXT PRIMARY KEY,            -- transfer id, unique across shards (carried in messages)
    sender_id       TEXT NOT NULL REFERENCES users(id),
    dest_shard      TEXT NOT NULL,
    stream_id       TEXT NOT NULL,
    gift_id         TEXT NOT NULL,
    quantity        INTEGER NOT NULL,
    coins           INTEGER NOT NULL,            -- list value (price x quantity)
    paid            INTEGER NOT NULL,            -- paid coins carried to the destination
    bonus           INTEGER NOT NULL,            -- bonus coins (burned when settled, returned on refund)
    status          TEXT NOT NULL CHECK (status IN ('pending','cancelling','credited','refused')),
    created_at      TEXT NOT NULL,
    deadline        TEXT NOT NULL,               -- after this, ask the destination to cancel
    settled_at      TEXT,
    reason          TEXT
);
CREATE INDEX shard_transfers_out_open ON shard_transfers_out(deadline) WHERE status IN ('pending','cancelling');

-- The destination's one decision per transfer id: credited or refused, never both, never twice.
CREATE TABLE shard_transfers_in (
    id              TEXT PRIMARY KEY,
    origin_shard    TEXT NOT NULL,
    stream_id       TEXT NOT NULL,
    host_id         TEXT,
    sender_id       TEXT NOT NULL,               -- a user of the origin shard (not in this users table)
    paid            INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('credited','refused')),
    reason          TEXT,
    decided_at      TEXT NOT NULL
);
