-- The ISP's billing rules, promised payments (обещанный платёж) and voluntary suspensions
-- (добровольная блокировка).

-- One row per ISP; absent means the defaults below (promised payments off).
CREATE TABLE billing_settings (
    tenant_id                   uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    -- The largest promised payment; 0 turns the feature off.
    promised_payment_max_minor  bigint NOT NULL DEFAULT 0 CHECK (promised_payment_max_minor >= 0),
    promised_payment_days       integer NOT NULL DEFAULT 3 CHECK (promised_payment_days BETWEEN 1 AND 30),
    promised_payments_per_month integer NOT NULL DEFAULT 1 CHECK (promised_payments_per_month BETWEEN 0 AND 10),
    suspension_min_days         integer NOT NULL DEFAULT 7,
    suspension_max_days         integer NOT NULL DEFAULT 90,
    suspension_fee_minor        bigint NOT NULL DEFAULT 0 CHECK (suspension_fee_minor >= 0),
    CHECK (suspension_min_days >= 1 AND suspension_max_days >= suspension_min_days AND suspension_max_days <= 365)
);
SELECT enable_tenant_isolation('billing_settings');

-- Temporary credit: granted as subscriber +X / promised_credit -X, settled by the reverse
-- movement when the next payment arrives or when it falls due, whichever comes first.
CREATE TABLE promised_payments (
    tenant_id          uuid NOT NULL,
    id                 uuid NOT NULL,
    subscriber_id      uuid NOT NULL,
    amount_minor       bigint NOT NULL CHECK (amount_minor > 0),
    currency           char(3) NOT NULL,
    granted_at         timestamptz NOT NULL DEFAULT now(),
    due_at             timestamptz NOT NULL,
    settled_at         timestamptz,
    settlement         text CHECK (settlement IN ('repaid', 'expired')),
    grant_transaction  uuid NOT NULL,
    settle_transaction uuid,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id),
    FOREIGN KEY (tenant_id, grant_transaction) REFERENCES ledger_transactions (tenant_id, id),
    FOREIGN KEY (tenant_id, settle_transaction) REFERENCES ledger_transactions (tenant_id, id),
    CHECK ((settled_at IS NULL) = (settlement IS NULL) AND (settled_at IS NULL) = (settle_transaction IS NULL))
);
SELECT enable_tenant_isolation('promised_payments');
-- INVARIANT: at most one open promised payment per subscriber.
CREATE UNIQUE INDEX promised_payments_open_key ON promised_payments (tenant_id, subscriber_id) WHERE settled_at IS NULL;
CREATE INDEX promised_payments_due_idx ON promised_payments (tenant_id, due_at) WHERE settled_at IS NULL;
CREATE INDEX promised_payments_month_idx ON promised_payments (tenant_id, subscriber_id, granted_at);

-- A pause of service and charges, chosen by the subscriber.
CREATE TABLE suspensions (
    tenant_id     uuid NOT NULL,
    id            uuid NOT NULL,
    subscriber_id uuid NOT NULL,
    starts_at     timestamptz NOT NULL DEFAULT now(),
    ends_at       timestamptz NOT NULL,
    resumed_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id),
    CHECK (ends_at > starts_at)
);
SELECT enable_tenant_isolation('suspensions');
-- INVARIANT: at most one running suspension per subscriber.
CREATE UNIQUE INDEX suspensions_open_key ON suspensions (tenant_id, subscriber_id) WHERE resumed_at IS NULL;
CREATE INDEX suspensions_due_idx ON suspensions (tenant_id, ends_at) WHERE resumed_at IS NULL;
