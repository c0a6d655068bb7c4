-- Identity and access: subscribers and staff of each ISP, their sessions and role grants, the
-- platform's operators, login throttling and the staff audit log.

CREATE TABLE subscribers (
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid NOT NULL,
    account_number text NOT NULL CHECK (account_number ~ '^[0-9A-Za-z-]{1,32}$'),
    full_name      text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    email          text CHECK (email = lower(email) AND position('@' IN email) > 1),
    phone          text CHECK (phone ~ '^\+[0-9]{7,15}$'),
    address        text,
    password_hash  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT subscribers_account_number_key UNIQUE (tenant_id, account_number),
    CONSTRAINT subscribers_email_key UNIQUE (tenant_id, email),
    CONSTRAINT subscribers_phone_key UNIQUE (tenant_id, phone)
);
SELECT enable_tenant_isolation('subscribers');

CREATE TABLE staff (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    email         text NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    password_hash text,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT staff_email_key UNIQUE (tenant_id, email)
);
SELECT enable_tenant_isolation('staff');

-- Built-in role grants. Custom roles (the console issue) add a roles table; the casbin model
-- already treats roles as names within a tenant domain.
CREATE TABLE staff_roles (
    tenant_id uuid NOT NULL,
    staff_id  uuid NOT NULL,
    role      text NOT NULL CHECK (role IN ('owner', 'admin', 'support_agent', 'billing_clerk', 'technician', 'read_only')),
    PRIMARY KEY (tenant_id, staff_id, role),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('staff_roles');

CREATE FUNCTION notify_authz_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('kabinet_authz', COALESCE(NEW.tenant_id, OLD.tenant_id)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER staff_roles_changed AFTER INSERT OR UPDATE OR DELETE ON staff_roles
    FOR EACH ROW EXECUTE FUNCTION notify_authz_changed();

-- Sessions of a tenant's subscribers and staff. The cookie holds a random token; only its
-- SHA-256 is stored, so a database leak does not leak usable sessions.
CREATE TABLE sessions (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    token_hash    bytea NOT NULL,
    subscriber_id uuid,
    staff_id      uuid,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    client_addr   text,
    user_agent    text,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT sessions_token_hash_key UNIQUE (tenant_id, token_hash),
    CHECK ((subscriber_id IS NULL) <> (staff_id IS NULL)),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('sessions');
CREATE INDEX sessions_subscriber_idx ON sessions (tenant_id, subscriber_id) WHERE subscriber_id IS NOT NULL;
CREATE INDEX sessions_staff_idx ON sessions (tenant_id, staff_id) WHERE staff_id IS NOT NULL;

-- Every staff action that changes data. Append-only for the app role; the console issue adds
-- the hash chain and the owner's viewer.
CREATE TABLE audit_log (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    staff_id    uuid,
    action      text NOT NULL,
    target      text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb,
    client_addr text,
    PRIMARY KEY (tenant_id, id)
);
SELECT enable_tenant_isolation('audit_log');
CREATE INDEX audit_log_at_idx ON audit_log (tenant_id, at DESC);
REVOKE UPDATE, DELETE ON audit_log FROM kabinet_app;

-- The SaaS operator's own people (platform host). Platform table: no tenant.
CREATE TABLE operators (
    id            uuid PRIMARY KEY,
    email         text NOT NULL CONSTRAINT operators_email_key UNIQUE CHECK (email = lower(email)),
    display_name  text NOT NULL,
    password_hash text,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE operator_sessions (
    id           uuid PRIMARY KEY,
    token_hash   bytea NOT NULL CONSTRAINT operator_sessions_token_hash_key UNIQUE,
    operator_id  uuid NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);

-- Failed sign-ins per bucket (an account on a host, or a client address), shared by every node.
-- A bucket names its scope, so one ISP's throttling never touches another's accounts.
CREATE TABLE login_throttle (
    bucket          text PRIMARY KEY,
    failures        integer NOT NULL,
    window_start    timestamptz NOT NULL,
    locked_until    timestamptz
);
