-- Owner: hardening (issue 15). Shipped migrations are never edited; add a new number instead.
--
-- 1. Revocations: every way a session ends or an account is blocked (admin API, CLI in
--    another process, moderation, logout, refresh-token reuse) leaves a row here, written by
--    triggers in the same transaction. The server polls this table (by id, cheap) and closes
--    the affected websockets, whichever process made the change.
CREATE TABLE revocations (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    session_id  TEXT,                 -- NULL: every session of the user
    reason      TEXT NOT NULL
);

CREATE TRIGGER sessions_revoked_notify AFTER UPDATE OF revoked_at ON sessions
WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
    INSERT INTO revocations(at, user_id, session_id, reason)
    VALUES (NEW.revoked_at, NEW.user_id, NEW.id, COALESCE(NEW.revoked_reason, 'session ended'));
END;

CREATE TRIGGER users_blocked_notify AFTER UPDATE OF status, status_until ON users
WHEN NEW.status IN ('banned', 'suspended')
BEGIN
    INSERT INTO revocations(at, user_id, session_id, reason)
    VALUES (NEW.updated_at, NEW.id, NULL,
            CASE NEW.status WHEN 'banned' THEN 'account banned'
                 ELSE 'account suspended' || COALESCE(' until ' || NEW.status_until, '') END);
END;

-- 2. The audit log gets the ledger's protection: append-only, and a hash chain
--    (prev_hash, hash: sha256 over the previous hash and the row's content, computed by
--    halobuzz.accounts.audit.record) that `doctor` and `halobuzz audit verify` walk.
--    Rows written before this migration have no hash; the chain starts after them.
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
