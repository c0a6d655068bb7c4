-- The audit log becomes a tamper-evident hash chain per ISP, operators can appear in it, and
-- staff access grows custom roles, a policy version for exact cache invalidation across nodes,
-- and the owner's "every staff member uses two-factor sign-in" switch.

---------------------------------------------------------------------------------------------
-- Audit hash chain
---------------------------------------------------------------------------------------------

-- An operator acting on this ISP (support, suspension…) is recorded in the ISP's own chain, so
-- the owner sees it. At most one actor; neither means the system itself.
ALTER TABLE audit_log
    ADD COLUMN operator_id uuid,
    ADD COLUMN seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea,
    ADD CONSTRAINT audit_log_one_actor CHECK (staff_id IS NULL OR operator_id IS NULL);

-- The last link of each ISP's chain. Only the chain trigger writes it; inserting an audit row
-- takes this row FOR UPDATE, so concurrent inserts on any number of nodes queue per ISP and the
-- chain can never fork.
CREATE TABLE audit_chain_heads (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq       bigint NOT NULL,
    hash      bytea NOT NULL,
    PRIMARY KEY (tenant_id)
);
SELECT enable_tenant_isolation('audit_chain_heads');
REVOKE INSERT, UPDATE, DELETE ON audit_chain_heads FROM kabinet_app;

-- The hash of one entry: SHA-256 over a length-prefixed encoding of every field that matters,
-- each written as `<octets>:<text>` (`~` for NULL), so no two different entries encode alike.
-- `kabinet_access::audit::entry_hash` computes the same bytes in Rust; `kabinet audit verify`
-- recomputes there, so a verifier does not trust this function.
CREATE FUNCTION audit_entry_hash(
    p_tenant uuid, p_seq bigint, p_prev bytea, p_at timestamptz, p_staff uuid, p_operator uuid,
    p_action text, p_target text, p_details jsonb, p_client text
) RETURNS bytea
    LANGUAGE sql STABLE
    AS $$
    SELECT sha256(convert_to(string_agg(
               CASE WHEN f IS NULL THEN '~' ELSE octet_length(f)::text || ':' || f END,
               '' ORDER BY n), 'UTF8'))
    FROM unnest(ARRAY[
        'kabinet-audit-v1',
        p_tenant::text,
        p_seq::text,
        encode(p_prev, 'hex'),
        (extract(epoch FROM p_at) * 1000000)::bigint::text,
        p_staff::text,
        p_operator::text,
        p_action,
        p_target,
        p_details::text,
        p_client
    ]) WITH ORDINALITY AS t(f, n)
$$;

-- Existing entries get their chain, oldest first, one ISP at a time (FORCE row-level security
-- binds the migrating role too, hence the tenant setting).
DO $$
DECLARE
    t   uuid;
    r   record;
    s   bigint;
    h   bytea;
BEGIN
    FOR t IN SELECT id FROM tenants LOOP
        PERFORM set_config('app.tenant_id', t::text, true);
        s := 0;
        h := decode(repeat('00', 32), 'hex');
        FOR r IN SELECT * FROM audit_log WHERE tenant_id = t ORDER BY at, id LOOP
            s := s + 1;
            UPDATE audit_log
               SET seq = s, prev_hash = h,
                   hash = audit_entry_hash(r.tenant_id, s, h, r.at, r.staff_id, r.operator_id,
                                           r.action, r.target, r.details, r.client_addr)
             WHERE tenant_id = t AND id = r.id
            RETURNING audit_log.hash INTO h;
        END LOOP;
        IF s > 0 THEN
            INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES (t, s, h);
        END IF;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END
$$;

ALTER TABLE audit_log
    ALTER COLUMN seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX audit_log_seq_key ON audit_log (tenant_id, seq);

-- Links every new entry: next seq, the previous hash, its own hash, and the time it was
-- chained (taken under the head's lock, so time never runs backwards along the chain).
-- Whatever the caller put into these columns is overwritten. SECURITY DEFINER: the app role
-- cannot write the heads itself; row-level security still scopes it to the caller's ISP.
CREATE FUNCTION audit_log_chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    head audit_chain_heads%ROWTYPE;
BEGIN
    INSERT INTO audit_chain_heads (tenant_id, seq, hash)
    VALUES (NEW.tenant_id, 0, decode(repeat('00', 32), 'hex'))
    ON CONFLICT (tenant_id) DO NOTHING;
    SELECT * INTO STRICT head FROM audit_chain_heads WHERE tenant_id = NEW.tenant_id FOR UPDATE;
    NEW.seq := head.seq + 1;
    NEW.prev_hash := head.hash;
    NEW.at := clock_timestamp();
    NEW.hash := audit_entry_hash(NEW.tenant_id, NEW.seq, NEW.prev_hash, NEW.at, NEW.staff_id,
                                 NEW.operator_id, NEW.action, NEW.target, NEW.details,
                                 NEW.client_addr);
    UPDATE audit_chain_heads SET seq = NEW.seq, hash = NEW.hash WHERE tenant_id = NEW.tenant_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- Append-only for everyone but a superuser (the app role has no UPDATE or DELETE anyway; this
-- also holds the owning role). The one exception: deleting an ISP removes its log with it.
CREATE FUNCTION audit_log_immutable() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id) THEN
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper) THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();

CREATE FUNCTION audit_log_no_truncate() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate();
REVOKE TRUNCATE ON audit_log FROM kabinet_app;

---------------------------------------------------------------------------------------------
-- Custom roles
---------------------------------------------------------------------------------------------

-- A role an ISP assembles from the permission catalogue (`kabinet_access::Permission`, named
-- `object.action`; names the binary no longer knows grant nothing).
CREATE TABLE custom_roles (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 80 AND name = btrim(name)),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    permissions text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
SELECT enable_tenant_isolation('custom_roles');
CREATE UNIQUE INDEX custom_roles_name_key ON custom_roles (tenant_id, lower(name));

CREATE TABLE staff_custom_roles (
    tenant_id uuid NOT NULL,
    staff_id  uuid NOT NULL,
    role_id   uuid NOT NULL,
    PRIMARY KEY (tenant_id, staff_id, role_id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE,
    -- A role still held by someone cannot be deleted (`role_in_use`).
    CONSTRAINT staff_custom_roles_role_fkey FOREIGN KEY (tenant_id, role_id)
        REFERENCES custom_roles (tenant_id, id) ON DELETE RESTRICT
);
SELECT enable_tenant_isolation('staff_custom_roles');
CREATE INDEX staff_custom_roles_role_idx ON staff_custom_roles (tenant_id, role_id);

-- Each ISP's policy version: bumped in the same transaction as any change to its grants or
-- roles. Every staff request reads it with its session, and a node whose cached enforcer is
-- older rebuilds it first, so a change holds on every node from the moment it commits
-- (the NOTIFY below only makes nodes drop stale enforcers early).
CREATE TABLE authz_policy_versions (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version   bigint NOT NULL,
    PRIMARY KEY (tenant_id)
);
SELECT enable_tenant_isolation('authz_policy_versions');
REVOKE INSERT, UPDATE, DELETE ON authz_policy_versions FROM kabinet_app;

CREATE OR REPLACE FUNCTION notify_authz_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    t     uuid := COALESCE(NEW.tenant_id, OLD.tenant_id);
    scope text := current_setting('app.tenant_id', true);
BEGIN
    -- An ISP being deleted takes its grants along; there is nothing left to version.
    IF EXISTS (SELECT 1 FROM tenants WHERE id = t) THEN
        -- The change may come from outside a tenant transaction (a superuser's repair, a
        -- platform job): version the row's own ISP, then put the caller's scope back.
        PERFORM set_config('app.tenant_id', t::text, true);
        INSERT INTO authz_policy_versions (tenant_id, version) VALUES (t, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = authz_policy_versions.version + 1;
        PERFORM set_config('app.tenant_id', COALESCE(scope, ''), true);
    END IF;
    PERFORM pg_notify('kabinet_authz', t::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER custom_roles_changed AFTER INSERT OR UPDATE OR DELETE ON custom_roles
    FOR EACH ROW EXECUTE FUNCTION notify_authz_changed();
CREATE TRIGGER staff_custom_roles_changed AFTER INSERT OR UPDATE OR DELETE ON staff_custom_roles
    FOR EACH ROW EXECUTE FUNCTION notify_authz_changed();
-- Deactivation and the two-factor rule are read with the session; versioning them too keeps
-- one rule: anything that changes what a staff member may do moves the version.
CREATE TRIGGER staff_active_changed AFTER UPDATE OF active ON staff
    FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION notify_authz_changed();

-- Versions for ISPs that already have grants.
DO $$
DECLARE
    t uuid;
BEGIN
    FOR t IN SELECT id FROM tenants LOOP
        PERFORM set_config('app.tenant_id', t::text, true);
        INSERT INTO authz_policy_versions (tenant_id, version)
        SELECT t, 1 WHERE EXISTS (SELECT 1 FROM staff_roles WHERE tenant_id = t)
        ON CONFLICT DO NOTHING;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END
$$;

---------------------------------------------------------------------------------------------
-- Staff sign-in policy
---------------------------------------------------------------------------------------------

-- The owner's switch: every staff member must use two-factor sign-in. Staff without it may
-- only enrol (every permission check answers `two_factor_required` until they have).
CREATE TABLE staff_security_settings (
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    require_two_factor boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id)
);
SELECT enable_tenant_isolation('staff_security_settings');
REVOKE DELETE ON staff_security_settings FROM kabinet_app;
