-- Billing: tariffs, one prepaid account per subscriber, and a double-entry ledger.
--
-- Every money movement is a ledger transaction (one idempotency key per tenant) made of two or
-- more entries that sum to zero across ledger accounts: the subscriber's balance, revenue per
-- service, clearing accounts per payment method, promised credit. The subscriber's balance is
-- the sum of their `subscriber` entries; `accounts.balance_minor` caches it, kept in step by a
-- trigger and proven equal by `kabinet billing verify`.

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
    -- INVARIANT: equals the sum of this subscriber's `subscriber` ledger entries.
    balance_minor      bigint NOT NULL DEFAULT 0,
    status_changed_at  timestamptz NOT NULL DEFAULT now(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, subscriber_id),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT accounts_tariff_fkey FOREIGN KEY (tenant_id, tariff_id) REFERENCES tariffs (tenant_id, id)
);
SELECT enable_tenant_isolation('accounts');
CREATE INDEX accounts_tariff_idx ON accounts (tenant_id, tariff_id);
CREATE INDEX accounts_status_idx ON accounts (tenant_id, status);

-- One money movement. `kind` says what happened; the entries say where the money went.
CREATE TABLE ledger_transactions (
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('opening_balance', 'payment', 'charge', 'refund', 'correction', 'reversal', 'promised_credit', 'promised_repayment')),
    description     text NOT NULL CHECK (length(description) BETWEEN 1 AND 500),
    -- INVARIANT: unique per tenant; the same key twice is the same movement.
    idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    -- The subscriber the movement concerns (for their history), if any.
    subscriber_id   uuid,
    -- Who entered it, for manual movements.
    staff_id        uuid,
    -- What a payment was recorded against: receipt or bank reference.
    reference       text,
    -- The transaction this one reverses, for corrections.
    reverses        uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT ledger_transactions_idempotency_key UNIQUE (tenant_id, idempotency_key),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id),
    FOREIGN KEY (tenant_id, reverses) REFERENCES ledger_transactions (tenant_id, id)
);
SELECT enable_tenant_isolation('ledger_transactions');
CREATE INDEX ledger_transactions_subscriber_idx ON ledger_transactions (tenant_id, subscriber_id, created_at DESC);
-- A transaction is reversed at most once.
CREATE UNIQUE INDEX ledger_transactions_reverses_key ON ledger_transactions (tenant_id, reverses) WHERE reverses IS NOT NULL;

CREATE TABLE ledger_entries (
    tenant_id      uuid NOT NULL,
    transaction_id uuid NOT NULL,
    line           smallint NOT NULL CHECK (line > 0),
    -- subscriber: the prepaid balance (positive = money the subscriber has);
    -- revenue:*: income per service; clearing:*: money on its way in per payment method;
    -- promised_credit: temporary credit extended to the subscriber.
    ledger_account text NOT NULL CHECK (ledger_account ~ '^(subscriber|promised_credit|revenue:[a-z_]+|clearing:[a-z_]+|adjustments)$'),
    subscriber_id  uuid,
    amount_minor   bigint NOT NULL CHECK (amount_minor <> 0),
    currency       char(3) NOT NULL,
    PRIMARY KEY (tenant_id, transaction_id, line),
    FOREIGN KEY (tenant_id, transaction_id) REFERENCES ledger_transactions (tenant_id, id),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id),
    CHECK ((ledger_account = 'subscriber') = (subscriber_id IS NOT NULL))
);
SELECT enable_tenant_isolation('ledger_entries');
CREATE INDEX ledger_entries_subscriber_idx ON ledger_entries (tenant_id, subscriber_id) WHERE subscriber_id IS NOT NULL;

-- INVARIANT: the ledger is append-only. Corrections are new, reversing transactions.
REVOKE UPDATE, DELETE ON ledger_transactions, ledger_entries FROM kabinet_app;

-- After every INSERT into ledger_entries (set-based: one statement per billing run):
--   * each transaction it touched balances to zero in a single currency, and
--   * each subscriber's cached balance moves by exactly their entries' sum.
-- The rule that follows: all lines of one transaction are inserted by one statement.
-- SECURITY DEFINER: the app role cannot write balance_minor itself; only this trigger can.
-- Row-level security still applies (FORCE), scoped by the caller's app.tenant_id.
CREATE FUNCTION ledger_entries_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    unbalanced uuid;
BEGIN
    SELECT e.transaction_id INTO unbalanced
    FROM ledger_entries e
    WHERE (e.tenant_id, e.transaction_id) IN (SELECT DISTINCT tenant_id, transaction_id FROM new_entries)
    GROUP BY e.tenant_id, e.transaction_id
    HAVING sum(e.amount_minor) <> 0 OR count(DISTINCT e.currency) <> 1
    LIMIT 1;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not balance', unbalanced
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transaction_balanced';
    END IF;

    UPDATE accounts a SET balance_minor = a.balance_minor + moved.amount
    FROM (SELECT tenant_id, subscriber_id, sum(amount_minor) AS amount
          FROM new_entries WHERE subscriber_id IS NOT NULL
          GROUP BY tenant_id, subscriber_id) moved
    WHERE a.tenant_id = moved.tenant_id AND a.subscriber_id = moved.subscriber_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER ledger_entries_inserted AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_inserted();

-- balance_minor is written only by the trigger above; the app role may change status and plan.
REVOKE UPDATE ON accounts FROM kabinet_app;
GRANT UPDATE (tariff_id, status, credit_limit_minor, status_changed_at) ON accounts TO kabinet_app;
