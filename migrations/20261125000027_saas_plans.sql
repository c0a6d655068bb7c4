-- SaaS plans (the operator's price list), the limits they include, enforced where the counted
-- rows are written, and each ISP's SaaS billing state (dunning).

-- A plan: a price per active subscriber and included limits (NULL = unlimited). Platform table.
CREATE TABLE saas_plans (
    code                    text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- Per active subscriber per month, in minor units of `currency`.
    price_per_subscriber    bigint NOT NULL CHECK (price_per_subscriber >= 0),
    currency                text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    max_subscribers         integer CHECK (max_subscribers >= 0),
    max_staff_seats         integer CHECK (max_staff_seats >= 1),
    max_storage_bytes       bigint CHECK (max_storage_bytes >= 0),
    features                text[] NOT NULL DEFAULT '{}'
        CHECK (features <@ ARRAY['custom_domains', 'online_payments', 'network']::text[]),
    -- Archived plans keep their tenants but are offered to nobody new.
    archived                boolean NOT NULL DEFAULT false,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

INSERT INTO saas_plans (code, name, price_per_subscriber, currency, max_subscribers, max_staff_seats,
                        max_storage_bytes, features) VALUES
    ('starter', 'Starter', 1500, 'RUB', 1000, 5, 1073741824, '{}'),
    ('growth', 'Growth', 1200, 'RUB', 250000, 25, 10737418240, '{online_payments,custom_domains}'),
    ('pro', 'Pro', 1000, 'RUB', NULL, NULL, 107374182400, '{online_payments,custom_domains,network}');
-- Any other code already in use stays valid: an archived, unlimited plan of that name.
INSERT INTO saas_plans (code, name, price_per_subscriber, currency, archived)
SELECT DISTINCT saas_plan, saas_plan, 0, 'RUB', true FROM tenants
ON CONFLICT (code) DO NOTHING;
ALTER TABLE tenants ADD CONSTRAINT tenants_saas_plan_fkey
    FOREIGN KEY (saas_plan) REFERENCES saas_plans (code) ON UPDATE CASCADE;
CREATE INDEX tenants_saas_plan_idx ON tenants (saas_plan);
REVOKE DELETE ON saas_plans FROM kabinet_app;

-- Limits are checked by the statement that writes the counted rows, in its transaction, so
-- every path (console, CSV import, manifests, invitations) obeys them. A per-tenant, per-limit
-- advisory lock taken before counting serialises concurrent writers: the second one counts
-- after the first commits, so two creates cannot both squeeze past the limit.
-- The error: SQLSTATE KBPL1, DETAIL a JSON {limit, max, current}; the gateway maps it to a
-- `plan_limit_reached` problem.
CREATE FUNCTION plan_limit_check(t uuid, what text) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    allowed bigint;
    used    bigint;
BEGIN
    SELECT CASE what WHEN 'subscribers' THEN p.max_subscribers::bigint
                     WHEN 'staff_seats' THEN p.max_staff_seats::bigint
                     ELSE p.max_storage_bytes END
      INTO allowed
      FROM tenants te JOIN saas_plans p ON p.code = te.saas_plan WHERE te.id = t;
    IF allowed IS NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('plan_limit:' || what || ':' || t::text, 0));
    used := plan_usage(t, what);
    IF used > allowed THEN
        RAISE EXCEPTION 'plan_limit_reached: % (% of %)', what, used, allowed
            USING ERRCODE = 'KBPL1',
                  DETAIL = json_build_object('limit', what, 'max', allowed, 'current', used)::text;
    END IF;
END
$$;

-- What a tenant uses of one limit. Staff seats: active staff plus open invitations (an
-- invitation holds its seat until it is accepted, revoked or expires). Storage: ticket
-- attachments plus the logo.
CREATE FUNCTION plan_usage(t uuid, what text) RETURNS bigint
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE what
        WHEN 'subscribers' THEN (SELECT count(*) FROM subscribers WHERE tenant_id = t)
        WHEN 'staff_seats' THEN
            (SELECT count(*) FROM staff WHERE tenant_id = t AND active)
            + (SELECT count(*) FROM staff_invitations
                WHERE tenant_id = t AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now())
        ELSE (SELECT COALESCE(sum(size_bytes), 0) FROM ticket_attachments WHERE tenant_id = t)
             + (SELECT COALESCE(octet_length(branding->>'logo_url'), 0) FROM tenants WHERE id = t)
    END
$$;

CREATE FUNCTION plan_limit_subscribers() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    t uuid;
BEGIN
    FOR t IN SELECT DISTINCT tenant_id FROM inserted LOOP
        PERFORM plan_limit_check(t, 'subscribers');
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER subscribers_plan_limit AFTER INSERT ON subscribers
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION plan_limit_subscribers();

CREATE FUNCTION plan_limit_storage() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    t uuid;
BEGIN
    FOR t IN SELECT DISTINCT tenant_id FROM inserted LOOP
        PERFORM plan_limit_check(t, 'storage');
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER ticket_attachments_plan_limit AFTER INSERT ON ticket_attachments
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION plan_limit_storage();

-- A bigger logo counts against storage too.
CREATE FUNCTION plan_limit_logo() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM plan_limit_check(NEW.id, 'storage');
    RETURN NULL;
END
$$;
CREATE TRIGGER tenants_logo_plan_limit AFTER UPDATE OF branding ON tenants
    FOR EACH ROW
    WHEN (octet_length(COALESCE(NEW.branding->>'logo_url', ''))
          > octet_length(COALESCE(OLD.branding->>'logo_url', '')))
    EXECUTE FUNCTION plan_limit_logo();

CREATE FUNCTION plan_limit_staff_seat() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM plan_limit_check(NEW.tenant_id, 'staff_seats');
    RETURN NULL;
END
$$;
-- Deferred to commit: accepting an invitation inserts the staff row while the invitation still
-- holds its seat, and marks it accepted a statement later.
CREATE CONSTRAINT TRIGGER staff_plan_limit AFTER INSERT ON staff
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.active) EXECUTE FUNCTION plan_limit_staff_seat();
CREATE CONSTRAINT TRIGGER staff_plan_limit_activated AFTER UPDATE OF active ON staff
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.active AND NOT OLD.active) EXECUTE FUNCTION plan_limit_staff_seat();
CREATE CONSTRAINT TRIGGER staff_invitations_plan_limit AFTER INSERT ON staff_invitations
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION plan_limit_staff_seat();

-- SaaS billing state per ISP (dunning): current → past_due (warning) → read_only → suspended.
-- Platform table: no subscriber data. `payment_failed_at` starts the episode the steps count
-- from; `suspended_by_dunning` lets a payment lift our suspension and never an operator's.
CREATE TABLE saas_billing (
    tenant_id             uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    state                 text NOT NULL DEFAULT 'current'
        CHECK (state IN ('current', 'past_due', 'read_only', 'suspended')),
    payment_failed_at     timestamptz,
    state_since           timestamptz NOT NULL DEFAULT now(),
    suspended_by_dunning  boolean NOT NULL DEFAULT false,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'current') = (payment_failed_at IS NULL))
);
CREATE INDEX saas_billing_dunning_idx ON saas_billing (state) WHERE state <> 'current';
REVOKE DELETE ON saas_billing FROM kabinet_app;
-- Read-only mode is served from every node's tenant cache: a change drops it everywhere.
CREATE TRIGGER saas_billing_changed AFTER INSERT OR UPDATE OR DELETE ON saas_billing
    FOR EACH STATEMENT EXECUTE FUNCTION notify_tenancy_changed();
