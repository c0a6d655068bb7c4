-- The skeleton of billing: tariffs, one account per subscriber, and an append-only ledger whose
-- sum is the balance. The billing issue grows this into double entry with recurring charges.

CREATE TABLE tariffs (
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                  uuid NOT NULL,
    code                text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    monthly_price_minor bigint NOT NULL CHECK (monthly_price_minor >= 0),
    currency            char(3) NOT NULL,
    speed_mbps          integer NOT NULL CHECK (speed_mbps > 0),
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT tariffs_code_key UNIQUE (tenant_id, code)
);
SELECT enable_tenant_isolation('tariffs');

CREATE TABLE accounts (
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subscriber_id      uuid NOT NULL,
    tariff_id          uuid,
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked', 'suspended')),
    credit_limit_minor bigint NOT NULL DEFAULT 0 CHECK (credit_limit_minor >= 0),
    currency           char(3) NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, subscriber_id),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT accounts_tariff_fkey FOREIGN KEY (tenant_id, tariff_id) REFERENCES tariffs (tenant_id, id)
);
SELECT enable_tenant_isolation('accounts');
CREATE INDEX accounts_tariff_idx ON accounts (tenant_id, tariff_id);

CREATE TABLE ledger_entries (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    subscriber_id   uuid NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor <> 0),
    currency        char(3) NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('opening_balance', 'payment', 'charge', 'adjustment')),
    description     text NOT NULL,
    idempotency_key text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT ledger_entries_idempotency_key UNIQUE (tenant_id, idempotency_key),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id)
);
SELECT enable_tenant_isolation('ledger_entries');
CREATE INDEX ledger_entries_account_idx ON ledger_entries (tenant_id, subscriber_id, created_at);
-- INVARIANT: the ledger is append-only. Corrections are new entries.
REVOKE UPDATE, DELETE ON ledger_entries FROM kabinet_app;
