-- Operator impersonation for support: an operator enters an ISP's console with a stated reason,
-- for a fixed time, through a single-use token that only the ISP's host can redeem. The ISP's
-- owner sees every such visit, and its start and end are in the ISP's own audit chain.

-- One visit. Tenant table: the token is looked up on the ISP's host, inside the ISP's scope,
-- so a token issued for one ISP is simply not found on another's host.
CREATE TABLE impersonations (
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               uuid NOT NULL,
    operator_id      uuid NOT NULL,
    operator_name    text NOT NULL,
    reason           text NOT NULL CHECK (length(reason) BETWEEN 10 AND 500),
    -- What the visit may do (see `kabinet_access::impersonation::Access`).
    access           text NOT NULL CHECK (access IN ('read_only', 'support')),
    -- The staff member whose console the operator sees (the ISP's owner). Their own account
    -- (password, second factor) stays out of reach: the gateway refuses those endpoints.
    staff_id         uuid NOT NULL,
    -- SHA-256 of the single-use entry token; it is redeemed once, within a minute.
    token_hash       bytea NOT NULL,
    token_expires_at timestamptz NOT NULL,
    redeemed_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- The time box: the server refuses the visit's session after this, whatever the browser does.
    expires_at       timestamptz NOT NULL,
    ended_at         timestamptz,
    -- 'operator', 'owner' or 'signed_out' (the session ended: sign-out, revocation).
    ended_by         text CHECK (ended_by IN ('operator', 'owner', 'signed_out')),
    ended_by_staff   uuid,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT impersonations_token_hash_key UNIQUE (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ended_by_staff) REFERENCES staff (tenant_id, id) ON DELETE SET NULL (ended_by_staff),
    CHECK ((ended_at IS NULL) = (ended_by IS NULL))
);
SELECT enable_tenant_isolation('impersonations');
CREATE INDEX impersonations_created_idx ON impersonations (tenant_id, created_at DESC);

-- The console session a redeemed token opens. It belongs to the owner's staff row (so every
-- console screen works) and names the visit, which decides its permissions and its actor in
-- the audit log.
ALTER TABLE sessions ADD COLUMN impersonation_id uuid;
ALTER TABLE sessions ADD CONSTRAINT sessions_impersonation_fkey
    FOREIGN KEY (tenant_id, impersonation_id) REFERENCES impersonations (tenant_id, id) ON DELETE CASCADE;
CREATE INDEX sessions_impersonation_idx ON sessions (tenant_id, impersonation_id)
    WHERE impersonation_id IS NOT NULL;

-- A visit's session ended some other way (sign-out, the owner's "end every session"): the
-- visit ends with it.
CREATE FUNCTION impersonation_session_revoked() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE impersonations SET ended_at = now(), ended_by = 'signed_out'
    WHERE tenant_id = NEW.tenant_id AND id = NEW.impersonation_id AND ended_at IS NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER impersonation_session_revoked AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW
    WHEN (NEW.impersonation_id IS NOT NULL AND NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL)
    EXECUTE FUNCTION impersonation_session_revoked();

-- However a visit ends, its sessions end and the ISP's audit chain records it, with the owner
-- as the actor when the owner ended it and the operator otherwise.
CREATE FUNCTION impersonation_ended() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE sessions SET revoked_at = now()
    WHERE tenant_id = NEW.tenant_id AND impersonation_id = NEW.id AND revoked_at IS NULL;
    INSERT INTO audit_log (tenant_id, id, staff_id, operator_id, action, target, details)
    VALUES (NEW.tenant_id, gen_random_uuid(), NEW.ended_by_staff,
            CASE WHEN NEW.ended_by_staff IS NULL THEN NEW.operator_id END,
            'impersonation.end', 'impersonation:' || NEW.id,
            jsonb_build_object('operator', jsonb_build_object('id', NEW.operator_id,
                                                              'name', NEW.operator_name),
                               'reason', NEW.reason, 'ended_by', NEW.ended_by));
    RETURN NULL;
END
$$;
CREATE TRIGGER impersonation_ended AFTER UPDATE OF ended_at ON impersonations
    FOR EACH ROW WHEN (OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL)
    EXECUTE FUNCTION impersonation_ended();
