-- Network integration: the ISP's network access servers (NAS), subscribers' service logins,
-- RADIUS sessions and daily traffic, and the CoA/Disconnect outbox (RFC 5176).
--
-- FreeRADIUS asks Kabinet on behalf of a NAS. The tenant is the NAS's: `nas_addresses` (a
-- platform table, like `tenant_hosts`) maps the packet's source address to its ISP before a
-- tenant is known; everything after runs in that ISP's transaction.

-- Upload speed; absent means the same as `speed_mbps` (download).
ALTER TABLE tariffs ADD COLUMN upload_speed_mbps integer CHECK (upload_speed_mbps > 0);

-- Per-ISP RADIUS behaviour. No row: the defaults below.
CREATE TABLE network_settings (
    tenant_id             uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- Subscribers blocked for debt get an address from this pool (a "pay your bill" page)
    -- instead of a reject. NULL: rejected like any blocked account.
    debt_captive_pool     text CHECK (length(debt_captive_pool) BETWEEN 1 AND 64),
    session_timeout_secs  integer NOT NULL DEFAULT 86400 CHECK (session_timeout_secs BETWEEN 60 AND 604800),
    interim_interval_secs integer NOT NULL DEFAULT 300 CHECK (interim_interval_secs BETWEEN 30 AND 86400),
    PRIMARY KEY (tenant_id)
);
SELECT enable_tenant_isolation('network_settings');

CREATE TABLE nas (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- The source address its RADIUS packets come from: one host address.
    address       inet NOT NULL CHECK (masklen(address) = CASE family(address) WHEN 4 THEN 32 ELSE 128 END),
    vendor        text NOT NULL CHECK (vendor IN ('mikrotik', 'cisco', 'juniper', 'accel_ppp', 'other')),
    area          text NOT NULL DEFAULT '' CHECK (length(area) <= 100),
    -- The RADIUS shared secret, sealed (AES-256-GCM under KABINET_SECRET_KEY, bound to the row).
    secret_sealed bytea NOT NULL,
    -- Where the NAS listens for CoA and Disconnect-Request (RFC 5176: 3799).
    coa_port      integer NOT NULL DEFAULT 3799 CHECK (coa_port BETWEEN 1 AND 65535),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT nas_name_key UNIQUE (tenant_id, name)
);
SELECT enable_tenant_isolation('nas');
CREATE INDEX nas_area_idx ON nas (tenant_id, area);

-- Platform table: source address → ISP and NAS, read before the tenant is known.
-- INVARIANT: an address belongs to one NAS of one ISP across the platform.
-- Written only by the trigger below (the app role has SELECT only), so an ISP can claim an
-- address only through a `nas` row of its own.
CREATE TABLE nas_addresses (
    address   inet PRIMARY KEY,
    tenant_id uuid NOT NULL,
    nas_id    uuid NOT NULL,
    CONSTRAINT nas_addresses_nas_fkey FOREIGN KEY (tenant_id, nas_id) REFERENCES nas (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX nas_addresses_nas_key ON nas_addresses (tenant_id, nas_id);
REVOKE INSERT, UPDATE, DELETE ON nas_addresses FROM kabinet_app;

-- SECURITY DEFINER: the app role may not write `nas_addresses` itself. NEW passed the caller's
-- row-level security on `nas`, so the tenant written here is the caller's own.
CREATE FUNCTION nas_address_sync() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO nas_addresses (address, tenant_id, nas_id) VALUES (NEW.address, NEW.tenant_id, NEW.id);
    ELSIF NEW.address IS DISTINCT FROM OLD.address THEN
        UPDATE nas_addresses SET address = NEW.address
        WHERE tenant_id = NEW.tenant_id AND nas_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER nas_address_sync AFTER INSERT OR UPDATE ON nas
    FOR EACH ROW EXECUTE FUNCTION nas_address_sync();

-- How a subscriber's equipment identifies itself to the NAS: a PPPoE login and password, or for
-- IPoE a MAC address or DHCP Option 82 circuit id (the NAS vouches; no password).
CREATE TABLE service_logins (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    subscriber_id   uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('pppoe', 'ipoe_mac', 'ipoe_option82')),
    -- The PPPoE user name, the MAC (aa:bb:cc:dd:ee:ff) or the circuit id.
    -- INVARIANT: unique per ISP (two ISPs may both have "ivanov").
    username        text NOT NULL CHECK (length(username) BETWEEN 1 AND 253),
    -- PPPoE only, sealed: CHAP needs the cleartext to check a response.
    password_sealed bytea,
    -- A static address, handed out only while the subscriber has the `static-ip` add-on.
    framed_ip       inet CHECK (framed_ip IS NULL OR masklen(framed_ip) = CASE family(framed_ip) WHEN 4 THEN 32 ELSE 128 END),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT service_logins_username_key UNIQUE (tenant_id, username),
    CONSTRAINT service_logins_framed_ip_key UNIQUE (tenant_id, framed_ip),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id) ON DELETE CASCADE,
    CHECK ((kind = 'pppoe') = (password_sealed IS NOT NULL))
);
SELECT enable_tenant_isolation('service_logins');
CREATE INDEX service_logins_subscriber_idx ON service_logins (tenant_id, subscriber_id);

-- One RADIUS accounting session, keyed as the NAS names it.
CREATE TABLE radius_sessions (
    tenant_id          uuid NOT NULL,
    nas_id             uuid NOT NULL,
    acct_session_id    text NOT NULL CHECK (length(acct_session_id) BETWEEN 1 AND 253),
    subscriber_id      uuid NOT NULL,
    username           text NOT NULL,
    framed_ip          inet,
    calling_station_id text,
    started_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    -- Set by Stop, or by the sweeper when interim updates stopped coming (`stale`).
    stopped_at         timestamptz,
    -- INVARIANT: counters only move forward (retransmits and reordering are normal).
    input_octets       bigint NOT NULL DEFAULT 0 CHECK (input_octets >= 0),
    output_octets      bigint NOT NULL DEFAULT 0 CHECK (output_octets >= 0),
    session_time_secs  bigint NOT NULL DEFAULT 0 CHECK (session_time_secs >= 0),
    terminate_cause    text,
    state              text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed', 'stale')),
    PRIMARY KEY (tenant_id, nas_id, acct_session_id),
    FOREIGN KEY (tenant_id, nas_id) REFERENCES nas (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id) ON DELETE CASCADE,
    CHECK ((state = 'open') = (stopped_at IS NULL))
);
SELECT enable_tenant_isolation('radius_sessions');
CREATE INDEX radius_sessions_subscriber_idx ON radius_sessions (tenant_id, subscriber_id, started_at DESC);
CREATE INDEX radius_sessions_open_idx ON radius_sessions (tenant_id, updated_at) WHERE state = 'open';

-- Traffic per subscriber and day (the ISP's time zone), from accounting deltas.
CREATE TABLE traffic_daily (
    tenant_id     uuid NOT NULL,
    subscriber_id uuid NOT NULL,
    day           date NOT NULL,
    input_octets  bigint NOT NULL DEFAULT 0 CHECK (input_octets >= 0),
    output_octets bigint NOT NULL DEFAULT 0 CHECK (output_octets >= 0),
    PRIMARY KEY (tenant_id, subscriber_id, day),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('traffic_daily');

-- CoA-Request / Disconnect-Request to send (RFC 5176), with the NAS's answer.
CREATE TABLE coa_requests (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    nas_id          uuid NOT NULL,
    acct_session_id text NOT NULL,
    subscriber_id   uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('disconnect', 'coa')),
    -- What caused it: `status:blocked`, `tariff` …
    reason          text NOT NULL,
    -- INVARIANT: one request per session and account change.
    idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 300),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'acked', 'nacked', 'timed_out')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    answered_at     timestamptz,
    -- RFC 5176 Error-Cause of a NAK.
    error_cause     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT coa_requests_idempotency_key UNIQUE (tenant_id, idempotency_key),
    FOREIGN KEY (tenant_id, nas_id) REFERENCES nas (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('coa_requests');
CREATE INDEX coa_requests_due_idx ON coa_requests (tenant_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX coa_requests_subscriber_idx ON coa_requests (tenant_id, subscriber_id, created_at DESC);

-- Whenever accounts change status or tariff — by any code path, in the same transaction — every
-- open session of theirs gets a request: a status change disconnects it (the subscriber
-- reconnects and is authorized afresh: rejected, captive pool or full speed), a tariff change
-- alone sends a CoA with the new rate. Statement-level over the transition tables: one INSERT
-- per UPDATE statement however many accounts it touched (the monthly charge run).
CREATE FUNCTION accounts_network_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    queued integer;
BEGIN
    INSERT INTO coa_requests (tenant_id, id, nas_id, acct_session_id, subscriber_id, kind, reason, idempotency_key)
    SELECT s.tenant_id, gen_random_uuid(), s.nas_id, s.acct_session_id, s.subscriber_id,
           CASE WHEN n.status <> o.status THEN 'disconnect' ELSE 'coa' END,
           CASE WHEN n.status <> o.status THEN 'status:' || n.status ELSE 'tariff' END,
           CASE WHEN n.status <> o.status
                THEN 'status:' || n.status || ':' || extract(epoch FROM n.status_changed_at)::text
                ELSE 'tariff:' || coalesce(n.tariff_id::text, '-') || ':' || extract(epoch FROM clock_timestamp())::text
           END || ':' || s.nas_id || ':' || s.acct_session_id
    FROM new_accounts n
    JOIN old_accounts o ON o.tenant_id = n.tenant_id AND o.subscriber_id = n.subscriber_id
    JOIN radius_sessions s ON s.tenant_id = n.tenant_id AND s.subscriber_id = n.subscriber_id AND s.state = 'open'
    WHERE n.status <> o.status OR n.tariff_id IS DISTINCT FROM o.tariff_id
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING;
    GET DIAGNOSTICS queued = ROW_COUNT;
    IF queued > 0 THEN
        PERFORM pg_notify('kabinet_coa', app_current_tenant()::text);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER accounts_network_changed AFTER UPDATE ON accounts
    REFERENCING OLD TABLE AS old_accounts NEW TABLE AS new_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_network_changed();
