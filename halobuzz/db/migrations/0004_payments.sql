-- Owner: halobuzz.payments (orders, the gateway event log, clawbacks). Never edit once shipped.

-- One row per purchase attempt. Our id doubles as eSewa's transaction_uuid, Khalti's
-- purchase_order_id and Stripe's client_reference_id. Amounts are minor units (paisa, cents).
CREATE TABLE payment_orders (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    gateway       TEXT NOT NULL CHECK (gateway IN ('esewa','khalti','stripe')),
    pack_id       TEXT NOT NULL,
    og_tier       INTEGER,                    -- set when the order buys an OG tier directly
    currency      TEXT NOT NULL,              -- ISO 4217, upper case
    amount_minor  INTEGER NOT NULL CHECK (amount_minor > 0),
    coins         INTEGER NOT NULL CHECK (coins > 0),
    status        TEXT NOT NULL CHECK (status IN ('created','pending','completed','failed','expired',
                                                  'refunded','partially_refunded','disputed')),
    gateway_ref   TEXT,                       -- Khalti pidx, Stripe Checkout Session id, eSewa: our id
    gateway_txn   TEXT,                       -- eSewa ref_id / Khalti transaction_id / Stripe payment_intent
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    completed_at  TEXT,
    credit_tx_id  INTEGER REFERENCES ledger_tx(id),
    subscription_id TEXT,                     -- og_subscriptions.id bought by this order
    refunded_minor INTEGER NOT NULL DEFAULT 0,  -- what the gateway says was refunded/disputed (cumulative)
    clawed_coins  INTEGER NOT NULL DEFAULT 0,   -- coins taken back so far (re-credits subtract)
    needs_review  INTEGER NOT NULL DEFAULT 0,   -- an operator should look (partial refund of unknown size ...)
    note          TEXT,
    checked_at    TEXT,                       -- last time reconciliation asked the gateway
    check_count   INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX payment_orders_ref ON payment_orders(gateway, gateway_ref) WHERE gateway_ref IS NOT NULL;
CREATE INDEX payment_orders_txn ON payment_orders(gateway, gateway_txn);
CREATE INDEX payment_orders_user ON payment_orders(user_id, created_at);
CREATE INDEX payment_orders_status ON payment_orders(status, gateway, created_at);

-- Every raw callback, webhook and status answer that changed something, encrypted at rest
-- (AES-256-GCM, associated data 'payment_event:<uid>'), with what we made of it.
CREATE TABLE payment_events (
    id          INTEGER PRIMARY KEY,
    uid         TEXT NOT NULL UNIQUE,
    gateway     TEXT NOT NULL,
    source      TEXT NOT NULL,                -- return | webhook | reconcile | admin
    event_id    TEXT,                         -- Stripe evt_..., eSewa/Khalti synthetic '<gw>:<ref>:<status>'
    event_type  TEXT,
    order_id    TEXT,
    received_at TEXT NOT NULL,
    payload     TEXT NOT NULL,                -- FieldCipher token of the raw request (body, query, signature header)
    verdict     TEXT NOT NULL,                -- credited | duplicate | pending | failed | refunded | rejected | ignored ...
    reason      TEXT
);
CREATE INDEX payment_events_order ON payment_events(order_id, id);
CREATE INDEX payment_events_gateway ON payment_events(gateway, verdict, id);
CREATE INDEX payment_events_event ON payment_events(gateway, event_id);

-- One row per clawback (or re-credit) ledger transaction, so disputes that are won can be undone.
CREATE TABLE payment_clawbacks (
    key         TEXT PRIMARY KEY,             -- the ledger key
    order_id    TEXT NOT NULL REFERENCES payment_orders(id),
    coins       INTEGER NOT NULL,             -- > 0 clawed back, < 0 re-credited
    reason      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX payment_clawbacks_order ON payment_clawbacks(order_id);

-- The trace of a clawback through the buyer's spending: which paid-coin spends (gifts, OG
-- purchases) the clawed-back coins are attributed to, and what was taken back from each.
CREATE TABLE payment_clawback_traces (
    clawback_key   TEXT NOT NULL,
    spend_tx_id    INTEGER NOT NULL REFERENCES ledger_tx(id),
    attributed     INTEGER NOT NULL,          -- paid coins of that spend attributed to the clawback
    hold_id        INTEGER,                   -- earnings_holds row reduced, if any
    earnings_taken INTEGER NOT NULL DEFAULT 0,
    subscription_id TEXT,                     -- OG period revoked, if any
    PRIMARY KEY (clawback_key, spend_tx_id)
) WITHOUT ROWID;
CREATE INDEX payment_clawback_traces_spend ON payment_clawback_traces(spend_tx_id);
