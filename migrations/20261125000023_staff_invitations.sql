-- Staff invitations by e-mail: someone with `staff.manage` invites an address with a role; the
-- letter carries a single-use link (only the token's SHA-256 is stored) to the ISP's own host,
-- where the invitee chooses a name and password and becomes active staff with that role.
CREATE TABLE staff_invitations (
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid NOT NULL,
    email          text NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1
                                        AND length(email) <= 254),
    -- Exactly one of: a built-in role, a custom role.
    role           text CHECK (role IN ('owner', 'admin', 'support_agent', 'billing_clerk', 'technician', 'read_only')),
    custom_role_id uuid,
    token_hash     bytea NOT NULL,
    invited_by     uuid NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- The last letter: a resend issues a new token (the old link dies) and counts here.
    sent_at        timestamptz NOT NULL DEFAULT now(),
    sends          integer NOT NULL DEFAULT 1 CHECK (sends >= 1),
    expires_at     timestamptz NOT NULL,
    accepted_at    timestamptz,
    -- Revoked by staff, or replaced by a newer invitation of the same address.
    revoked_at     timestamptz,
    -- The staff member the invitation became.
    staff_id       uuid,
    PRIMARY KEY (tenant_id, id),
    CHECK ((role IS NULL) <> (custom_role_id IS NULL)),
    CHECK (accepted_at IS NULL OR revoked_at IS NULL),
    CHECK ((accepted_at IS NULL) = (staff_id IS NULL)),
    FOREIGN KEY (tenant_id, custom_role_id) REFERENCES custom_roles (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, invited_by) REFERENCES staff (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('staff_invitations');
CREATE UNIQUE INDEX staff_invitations_token_key ON staff_invitations (tenant_id, token_hash);
-- At most one open invitation per address: a new one replaces it.
CREATE UNIQUE INDEX staff_invitations_pending_key ON staff_invitations (tenant_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX staff_invitations_custom_role_idx ON staff_invitations (tenant_id, custom_role_id)
    WHERE custom_role_id IS NOT NULL;
CREATE INDEX staff_invitations_invited_by_idx ON staff_invitations (tenant_id, invited_by);
CREATE INDEX staff_invitations_staff_idx ON staff_invitations (tenant_id, staff_id)
    WHERE staff_id IS NOT NULL;
-- Invitations are revoked or accepted, never deleted by the app.
REVOKE DELETE ON staff_invitations FROM kabinet_app;
