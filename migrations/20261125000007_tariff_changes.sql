-- Tariff changes: effective at once with pro-rating, or from the next month, as the ISP chooses.

ALTER TABLE billing_settings
    ADD COLUMN tariff_change_rule text NOT NULL DEFAULT 'next_period'
        CHECK (tariff_change_rule IN ('immediate_prorated', 'next_period'));

CREATE TABLE tariff_changes (
    tenant_id      uuid NOT NULL,
    id             uuid NOT NULL,
    subscriber_id  uuid NOT NULL,
    from_tariff_id uuid,
    to_tariff_id   uuid NOT NULL,
    rule           text NOT NULL CHECK (rule IN ('immediate_prorated', 'next_period')),
    requested_at   timestamptz NOT NULL,
    -- When the new tariff takes over: at once, or the first day of the next month (UTC).
    effective_at   timestamptz NOT NULL,
    -- Set when the account switched: at once for immediate changes, by the month's charge run
    -- for next-period ones. A pending change that is replaced is cancelled instead.
    applied_at     timestamptz,
    cancelled_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id),
    FOREIGN KEY (tenant_id, from_tariff_id) REFERENCES tariffs (tenant_id, id),
    FOREIGN KEY (tenant_id, to_tariff_id) REFERENCES tariffs (tenant_id, id),
    CHECK (applied_at IS NULL OR cancelled_at IS NULL)
);
SELECT enable_tenant_isolation('tariff_changes');
CREATE INDEX tariff_changes_subscriber_idx ON tariff_changes (tenant_id, subscriber_id, requested_at DESC);
-- INVARIANT: at most one pending change per subscriber.
CREATE UNIQUE INDEX tariff_changes_pending_key ON tariff_changes (tenant_id, subscriber_id)
    WHERE applied_at IS NULL AND cancelled_at IS NULL;
