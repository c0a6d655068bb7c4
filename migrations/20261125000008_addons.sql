-- Add-on services (IPTV, static IP, antivirus …): a catalogue per ISP and who has which.

CREATE TABLE addons (
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                  uuid NOT NULL,
    code                text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description         text NOT NULL DEFAULT '',
    monthly_price_minor bigint NOT NULL CHECK (monthly_price_minor >= 0),
    currency            char(3) NOT NULL,
    active              boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT addons_code_key UNIQUE (tenant_id, code)
);
SELECT enable_tenant_isolation('addons');

CREATE TABLE addon_subscriptions (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    subscriber_id   uuid NOT NULL,
    addon_id        uuid NOT NULL,
    connected_at    timestamptz NOT NULL,
    disconnected_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id),
    FOREIGN KEY (tenant_id, addon_id) REFERENCES addons (tenant_id, id),
    CHECK (disconnected_at IS NULL OR disconnected_at >= connected_at)
);
SELECT enable_tenant_isolation('addon_subscriptions');
-- INVARIANT: an add-on is connected at most once at a time per subscriber.
CREATE UNIQUE INDEX addon_subscriptions_active_key ON addon_subscriptions (tenant_id, subscriber_id, addon_id)
    WHERE disconnected_at IS NULL;
CREATE INDEX addon_subscriptions_addon_idx ON addon_subscriptions (tenant_id, addon_id) WHERE disconnected_at IS NULL;
