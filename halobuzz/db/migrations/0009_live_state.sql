-- Owner: hardening (issue 15). Shipped migrations are never edited; add a new number instead.
--
-- What a live stream's analytics and trending need beyond what other tables already hold,
-- checkpointed by halobuzz.streams.checkpoint every few seconds and at shutdown, read back at
-- start (chat count and the late-join buffer come from chat_messages, coins from streams).
-- Rows go when the stream ends (its analytics are then on the streams row).
CREATE TABLE live_state (
    stream_id       TEXT PRIMARY KEY REFERENCES streams(id),
    peak_viewers    INTEGER NOT NULL DEFAULT 0,
    likes           INTEGER NOT NULL DEFAULT 0,
    gifts_json      TEXT NOT NULL DEFAULT '{}',   -- giftId -> {name, count, coins}
    gift_times_json TEXT NOT NULL DEFAULT '[]',   -- [[unix seconds, coins], ...] inside the trending window
    updated_at      TEXT NOT NULL
);

CREATE TABLE live_viewers (                       -- unique viewers so far (the host is not one)
    stream_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    PRIMARY KEY (stream_id, user_id)
) WITHOUT ROWID;
