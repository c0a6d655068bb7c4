-- SaaS billing through Stripe Billing: each ISP is a customer of the platform's own Stripe
-- account with one metered subscription; its active subscribers are reported once a day; its
-- invoices are kept for display. Platform tables (no subscriber data; tests/it/schema.rs lists
-- them), like `saas_billing` (the dunning state) next to which they live.

-- Objects on the platform's Stripe account that Kabinet creates once and reuses: the meter
-- (`meter:<event name>`) and one metered price per plan price (`price:<plan>:<amount>:<currency>`).
CREATE TABLE saas_stripe_objects (
    key         text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 200),
    stripe_id   text NOT NULL CHECK (length(stripe_id) BETWEEN 1 AND 255),
    created_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE DELETE ON saas_stripe_objects FROM kabinet_app;

-- The ISP as Stripe customer and its metered subscription. The subscription columns are set
-- together once Stripe created it; `price_key` names the price its item is on now.
CREATE TABLE saas_billing_customers (
    tenant_id             uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    customer_id           text NOT NULL UNIQUE CHECK (customer_id LIKE 'cus\_%'),
    subscription_id       text UNIQUE CHECK (subscription_id LIKE 'sub\_%'),
    subscription_item_id  text CHECK (subscription_item_id LIKE 'si\_%'),
    price_key             text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK ((subscription_id IS NULL) = (subscription_item_id IS NULL)),
    CHECK ((subscription_id IS NULL) = (price_key IS NULL))
);
REVOKE DELETE ON saas_billing_customers FROM kabinet_app;

-- One usage report per ISP and day, written before Stripe is called. `identifier` (derived from
-- tenant and day) is the meter event's identifier and the request's Idempotency-Key, so a
-- retry after a crash, a second run or a second node never counts twice at Stripe.
-- `claimed_until` leases an unsent report to one sender.
CREATE TABLE saas_usage_reports (
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day                 date NOT NULL,
    active_subscribers  integer NOT NULL CHECK (active_subscribers >= 0),
    customer_id         text NOT NULL,
    identifier          text NOT NULL UNIQUE CHECK (length(identifier) BETWEEN 1 AND 100),
    counted_at          timestamptz NOT NULL,
    sent_at             timestamptz,
    attempts            integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    claimed_until       timestamptz,
    last_error          text,
    PRIMARY KEY (tenant_id, day)
);
CREATE INDEX saas_usage_reports_unsent_idx ON saas_usage_reports (tenant_id, day)
    WHERE sent_at IS NULL;
REVOKE DELETE ON saas_usage_reports FROM kabinet_app;

-- The ISP's Stripe invoices as the platform's webhooks told them, for display.
CREATE TABLE saas_invoices (
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    invoice_id          text NOT NULL CHECK (invoice_id LIKE 'in\_%'),
    number              text,
    status              text NOT NULL
        CHECK (status IN ('draft', 'open', 'paid', 'uncollectible', 'void')),
    amount_due          bigint NOT NULL CHECK (amount_due >= 0),
    amount_paid         bigint NOT NULL CHECK (amount_paid >= 0),
    currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    quantity            bigint,
    period_start        timestamptz NOT NULL,
    period_end          timestamptz NOT NULL,
    attempt_count       integer NOT NULL DEFAULT 0,
    -- The last payment attempt failed (and nothing paid it since).
    payment_failed      boolean NOT NULL DEFAULT false,
    hosted_invoice_url  text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, invoice_id)
);
CREATE INDEX saas_invoices_recent_idx ON saas_invoices (tenant_id, created_at DESC);
REVOKE DELETE ON saas_invoices FROM kabinet_app;
