-- Owner: halobuzz.moderation (decisions, flags/reports, appeals, reputation, chat bans,
-- moderated images, age judgements). Never edit once shipped.

-- A moderator's (or the declared birth date's) under-18 judgement, read by the wallet's
-- spend cap and by moderation.restrictions. 1 = judged under 18; 0 = no such judgement.
ALTER TABLE users ADD COLUMN judged_minor INTEGER NOT NULL DEFAULT 0 CHECK (judged_minor IN (0,1));

-- Every automated decision: what the model said, which threshold it crossed, what was done.
CREATE TABLE moderation_decisions (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('text','image','age')),
    source          TEXT NOT NULL,               -- chat | profile | thumbnail | frame | selfie | ...
    subject_id      TEXT,                        -- message / image / stream id when known
    user_id         TEXT,                        -- whose content it was
    model_id        TEXT NOT NULL,
    score           REAL NOT NULL,
    action          TEXT NOT NULL,               -- allow | warn | block (age: allow | review)
    threshold       REAL,                        -- the threshold crossed (NULL = none)
    warn_at         REAL,                        -- the thresholds in force
    block_at        REAL,
    reasons_json    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX moderation_decisions_at ON moderation_decisions(kind, at);
CREATE INDEX moderation_decisions_user ON moderation_decisions(user_id, at);

-- The seed's ModerationFlag: a user report or an automated flag, and its review.
CREATE TABLE moderation_flags (
    id              TEXT PRIMARY KEY,
    reporter_id     TEXT REFERENCES users(id),   -- NULL = raised by the system
    type            TEXT NOT NULL CHECK (type IN ('user','stream','message','content')),
    target_id       TEXT NOT NULL,               -- user / stream / chat message / image id
    target_user_id  TEXT REFERENCES users(id),   -- the affected user (who may appeal)
    stream_id       TEXT,
    reason          TEXT NOT NULL,
    details         TEXT,
    score           REAL,                        -- model score when automated
    decision_id     INTEGER REFERENCES moderation_decisions(id),
    action          TEXT NOT NULL DEFAULT 'none' CHECK (action IN ('warn','blur','ban','delete','none')),
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','reviewed','resolved')),
    resolution      TEXT,                        -- confirmed | dismissed | upheld | overturned
    reviewed_by     TEXT,
    reviewed_at     TEXT,
    note            TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX moderation_flags_status ON moderation_flags(status, created_at);
CREATE INDEX moderation_flags_target ON moderation_flags(target_user_id, created_at);

CREATE TABLE moderation_appeals (
    id              TEXT PRIMARY KEY,
    flag_id         TEXT NOT NULL REFERENCES moderation_flags(id),
    user_id         TEXT NOT NULL REFERENCES users(id),
    text            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','upheld','overturned')),
    decided_by      TEXT,
    decided_at      TEXT,
    note            TEXT,
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX moderation_appeals_open ON moderation_appeals(flag_id) WHERE status = 'pending';
CREATE INDEX moderation_appeals_status ON moderation_appeals(status, created_at);

-- Trust-score changes (users.trust_score 0-100), one row per confirmed action or reversal.
CREATE TABLE reputation_events (
    id              INTEGER PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id),
    delta           INTEGER NOT NULL,
    score_after     INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    flag_id         TEXT REFERENCES moderation_flags(id),
    at              TEXT NOT NULL
);
CREATE INDEX reputation_events_user ON reputation_events(user_id, id);

-- Platform-wide temporary chat bans (automated, escalating), enforced at send time.
CREATE TABLE moderation_chat_bans (
    id              INTEGER PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id),
    level           INTEGER NOT NULL,            -- 0 = first rung of the ladder
    starts_at       TEXT NOT NULL,
    until           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    flag_id         TEXT REFERENCES moderation_flags(id),
    lifted_at       TEXT,
    lifted_by       TEXT
);
CREATE INDEX moderation_chat_bans_user ON moderation_chat_bans(user_id, starts_at);

-- Uploaded images (profile pictures, stream thumbnails, flagged frames). Files are
-- content-addressed under <data>/media/<sha[:2]>/<sha>; a blurred derivative is its own file.
CREATE TABLE moderation_images (
    id              TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL REFERENCES users(id),
    kind            TEXT NOT NULL CHECK (kind IN ('profile','thumbnail','frame')),
    stream_id       TEXT,
    sha256          TEXT NOT NULL,
    blurred_sha256  TEXT,
    content_type    TEXT NOT NULL,
    width           INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    bytes           INTEGER NOT NULL,
    score           REAL NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('ok','blurred','removed')),
    decision_id     INTEGER REFERENCES moderation_decisions(id),
    created_at      TEXT NOT NULL
);
CREATE INDEX moderation_images_owner ON moderation_images(owner_id, kind, created_at);
CREATE INDEX moderation_images_stream ON moderation_images(stream_id, kind, created_at);

-- History of under-18 judgements (the current one is users.judged_minor).
CREATE TABLE minor_judgements (
    id              INTEGER PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id),
    minor           INTEGER NOT NULL CHECK (minor IN (0,1)),
    by_user_id      TEXT,
    by_name         TEXT NOT NULL,
    reason          TEXT,
    at              TEXT NOT NULL
);
CREATE INDEX minor_judgements_user ON minor_judgements(user_id, id);
