-- Owner: halobuzz.wallet / halobuzz.gifts / halobuzz.og. Never edit once shipped.

-- Platform fee remainder per host, in 1/10000 coin: fees are integer coins per gift, and the
-- remainder carries to the host's next gift, so over time the platform takes exactly
-- platform_fee_bps of the paid part (small gifts neither leak fee nor overcharge it).
ALTER TABLE wallet_stats ADD COLUMN fee_carry INTEGER NOT NULL DEFAULT 0;

-- A daily cap set by an admin (parental lock): the user can lower it, never lift or raise it.
ALTER TABLE users ADD COLUMN spend_limit_locked INTEGER NOT NULL DEFAULT 0;

-- OG: each period remembers its list value (credit on upgrade is computed from it, not from
-- what was charged after a credit) and the last UTC date its daily bonus was paid for,
-- so the bonus job only looks at new dates.
ALTER TABLE og_subscriptions ADD COLUMN value INTEGER;
ALTER TABLE og_subscriptions ADD COLUMN bonus_paid_through TEXT;
UPDATE og_subscriptions SET value = price WHERE value IS NULL;
CREATE INDEX og_subscriptions_starts ON og_subscriptions(starts_at);
CREATE INDEX users_og_expiry ON users(og_expires_at) WHERE og_level > 0;

-- Idempotency responses are kept for a while (the ledger key stays forever); prune by age.
CREATE INDEX idempotency_created ON idempotency(created_at);
