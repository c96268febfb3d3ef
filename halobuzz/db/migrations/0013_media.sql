-- Owner: halobuzz.media (built-in RTMP -> HLS video path, replays).

-- One row per stream that went live with media_provider = hls: its RTMP ingest.
CREATE TABLE media_ingests (
    stream_id       TEXT PRIMARY KEY REFERENCES streams(id),
    key_enc         TEXT NOT NULL,               -- the stream key, AES-256-GCM field cipher (AAD = stream id)
    port            INTEGER NOT NULL,            -- RTMP port of this stream's ingest child
    created_at      TEXT NOT NULL,
    first_publish_at TEXT,
    refused         INTEGER NOT NULL DEFAULT 0   -- publish attempts refused (wrong key, not live, banned)
);

-- The recording of an ended stream, remuxed to an HLS VOD under <data>/media/<stream id>/replay.
CREATE TABLE stream_replays (
    stream_id       TEXT PRIMARY KEY REFERENCES streams(id),
    status          TEXT NOT NULL CHECK (status IN ('processing','ready','empty','failed','expired')),
    duration_seconds REAL NOT NULL DEFAULT 0,
    bytes           INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    ready_at        TEXT,
    expires_at      TEXT,                        -- NULL = kept until removed by hand
    error           TEXT
);
CREATE INDEX stream_replays_expiry ON stream_replays(status, expires_at);
