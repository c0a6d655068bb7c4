-- Online payments through Stripe Connect: each ISP's connected account, the payments its
-- subscribers start (Checkout top-ups and off-session auto-pay), the webhook events applied,
-- and each subscriber's saved card and auto-pay rule.

-- Platform table: a webhook names only the connected account, so the account → tenant lookup
-- happens before any tenant is known. One account per tenant, one tenant per account.
CREATE TABLE stripe_accounts (
    account_id          text PRIMARY KEY CHECK (account_id ~ '^acct_[A-Za-z0-9_]{1,64}$'),
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The platform's cut of each payment, in basis points (150 = 1.5 %).
    application_fee_bps integer NOT NULL DEFAULT 0 CHECK (application_fee_bps BETWEEN 0 AND 5000),
    charges_enabled     boolean NOT NULL DEFAULT true,
    connected_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stripe_accounts_tenant_key UNIQUE (tenant_id)
);

CREATE TABLE online_payments (
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               uuid NOT NULL,
    subscriber_id    uuid NOT NULL,
    purpose          text NOT NULL CHECK (purpose IN ('top_up', 'auto_pay')),
    amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
    currency         char(3) NOT NULL,
    -- pending → succeeded | failed | expired. Money at Stripe wins: a late success still credits.
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'expired')),
    stripe_account   text NOT NULL,
    checkout_session text,
    payment_intent   text,
    -- The subscriber asked to keep the card for next time (and auto-pay).
    save_card        boolean NOT NULL DEFAULT false,
    -- Auto-pay attempts are unique per subscriber and day: a rerun never charges twice.
    attempt_key      text,
    -- The ledger credit, once the money arrived; the refunds are reversing transactions.
    transaction_id   uuid,
    refunded_minor   bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
    failure          text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    settled_at       timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT online_payments_session_key UNIQUE (tenant_id, checkout_session),
    CONSTRAINT online_payments_intent_key UNIQUE (tenant_id, payment_intent),
    CONSTRAINT online_payments_attempt_key UNIQUE (tenant_id, attempt_key),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id),
    FOREIGN KEY (tenant_id, transaction_id) REFERENCES ledger_transactions (tenant_id, id),
    CHECK ((status = 'succeeded') = (transaction_id IS NOT NULL))
);
SELECT enable_tenant_isolation('online_payments');
CREATE INDEX online_payments_subscriber_idx ON online_payments (tenant_id, subscriber_id, created_at DESC);
CREATE INDEX online_payments_pending_idx ON online_payments (tenant_id, created_at) WHERE status = 'pending';

-- INVARIANT: a webhook event is applied once. The row is written in the same transaction
-- that applies the event, so a redelivery after a crash either finds it or applies it anew.
CREATE TABLE stripe_events (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_id    text NOT NULL CHECK (event_id ~ '^evt_[A-Za-z0-9_]{1,255}$'),
    type        text NOT NULL,
    created_at  timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    -- What applying it did: credited, expired, failed, ignored:<why> …
    outcome     text NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);
SELECT enable_tenant_isolation('stripe_events');
REVOKE UPDATE, DELETE ON stripe_events FROM kabinet_app;

-- A subscriber's saved card (kept at Stripe; only its customer and payment method ids and
-- display details here) and their auto-pay rule: top up `amount` when the balance is below
-- `threshold`.
CREATE TABLE autopay_settings (
    tenant_id        uuid NOT NULL,
    subscriber_id    uuid NOT NULL,
    stripe_customer  text NOT NULL,
    payment_method   text NOT NULL,
    card_brand       text NOT NULL DEFAULT '',
    card_last4       text NOT NULL DEFAULT '' CHECK (card_last4 ~ '^[0-9]{0,4}$'),
    card_expires     text NOT NULL DEFAULT '',
    enabled          boolean NOT NULL DEFAULT false,
    threshold_minor  bigint NOT NULL DEFAULT 0,
    amount_minor     bigint NOT NULL DEFAULT 0 CHECK (amount_minor >= 0),
    -- After a declined card auto-pay pauses until the subscriber acts (no retry storms).
    paused_reason    text,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, subscriber_id),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id)
);
SELECT enable_tenant_isolation('autopay_settings');
