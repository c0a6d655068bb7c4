-- A tenant's life on the platform: self-serve signup with e-mail confirmation, a trial, the
-- first-run checklist's "publish" step, operator suspension with a stated reason, and the usage
-- figures the operator console shows.

-- published_at: subscribers may sign in only once the ISP has published its portal (the
-- checklist's last step). Tenants that already exist (manifests) are live.
ALTER TABLE tenants
    ADD COLUMN published_at      timestamptz,
    ADD COLUMN trial_ends_at     timestamptz,
    ADD COLUMN suspended_reason  text CHECK (length(suspended_reason) <= 500),
    ADD COLUMN signed_up_at      timestamptz;
UPDATE tenants SET published_at = created_at;
ALTER TABLE tenants ALTER COLUMN published_at SET DEFAULT now();

-- An owner's e-mail confirmation after self-serve signup. The owner's staff row stays inactive
-- (cannot sign in) until the link in the letter is followed; only the token's SHA-256 is stored.
CREATE TABLE signup_confirmations (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    staff_id     uuid NOT NULL,
    token_hash   bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    confirmed_at timestamptz,
    PRIMARY KEY (tenant_id, staff_id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('signup_confirmations');
CREATE UNIQUE INDEX signup_confirmations_token_idx ON signup_confirmations (tenant_id, token_hash);

-- What the operator sees per ISP without reading its rows: figures each tenant's scheduler
-- round writes (inside that tenant's transaction) for the platform. Platform table: aggregates
-- only, no subscriber data; tests/it/schema.rs lists it.
CREATE TABLE tenant_usage (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    active_subscribers integer NOT NULL CHECK (active_subscribers >= 0),
    subscribers        integer NOT NULL CHECK (subscribers >= 0),
    open_tickets       integer NOT NULL CHECK (open_tickets >= 0),
    staff_seats        integer NOT NULL CHECK (staff_seats >= 0),
    last_activity_at   timestamptz,
    measured_at        timestamptz NOT NULL DEFAULT now()
);
