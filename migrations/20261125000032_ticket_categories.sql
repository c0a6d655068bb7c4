-- Ticket categories the ISP edits. Every ISP starts with the nine built-ins (seeded here for the
-- ISPs that exist and by a trigger for every new one); the ISP renames them, adds its own,
-- orders and deactivates them. A category's `kind` is one of the nine built-in codes and drives
-- behaviour (outage linking, diagnosis, debt hints): a built-in's kind is its own code, a custom
-- category picks one. Categories are never deleted while a ticket, SLA policy, article or agent
-- group names them; deactivating hides one from new tickets, old tickets keep it.

CREATE TABLE ticket_categories (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code       text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    kind       text NOT NULL CHECK (kind IN ('connectivity', 'speed', 'payments', 'tariff', 'addons',
                                             'equipment', 'complaint', 'account_security', 'other')),
    -- NULL: the built-in translation (built-ins only until renamed).
    name_ru    text CHECK (length(name_ru) BETWEEN 1 AND 80 AND name_ru = btrim(name_ru)),
    name_en    text CHECK (length(name_en) BETWEEN 1 AND 80 AND name_en = btrim(name_en)),
    position   integer NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 1000),
    active     boolean NOT NULL DEFAULT true,
    built_in   boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, code),
    -- A built-in is its own kind; a custom category has a name of its own.
    CHECK (NOT built_in OR code = kind),
    CHECK (built_in OR name_ru IS NOT NULL OR name_en IS NOT NULL)
);
SELECT enable_tenant_isolation('ticket_categories');
CREATE INDEX ticket_categories_order_idx ON ticket_categories (tenant_id, position, code);

-- The nine built-ins of one ISP, in the order the product always showed them.
CREATE FUNCTION seed_ticket_categories(t uuid) RETURNS void
    LANGUAGE sql
    AS $$
    INSERT INTO ticket_categories (tenant_id, code, kind, position, built_in)
    SELECT t, c.code, c.code, c.position, true
    FROM unnest(ARRAY['connectivity', 'speed', 'payments', 'tariff', 'addons', 'equipment',
                      'complaint', 'account_security', 'other']) WITH ORDINALITY AS c (code, position)
    ON CONFLICT (tenant_id, code) DO NOTHING
$$;

-- Every new ISP, whichever path creates it (signup, manifests, tests): scoped to the new ISP
-- for the insert, then the caller's scope is put back.
CREATE FUNCTION tenants_seed_ticket_categories() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    scope text := current_setting('app.tenant_id', true);
BEGIN
    PERFORM set_config('app.tenant_id', NEW.id::text, true);
    PERFORM seed_ticket_categories(NEW.id);
    PERFORM set_config('app.tenant_id', COALESCE(scope, ''), true);
    RETURN NULL;
END
$$;
CREATE TRIGGER tenants_seed_ticket_categories AFTER INSERT ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenants_seed_ticket_categories();

-- ISPs that already exist (row-level security binds the owner too).
DO $$
DECLARE t uuid;
BEGIN
    FOR t IN SELECT id FROM tenants LOOP
        PERFORM set_config('app.tenant_id', t::text, true);
        PERFORM seed_ticket_categories(t);
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END $$;

-- The fixed lists give way to the ISP's own.
ALTER TABLE tickets DROP CONSTRAINT tickets_category_check,
    ADD CONSTRAINT tickets_category_fkey FOREIGN KEY (tenant_id, category)
        REFERENCES ticket_categories (tenant_id, code);
ALTER TABLE ticket_sla_policies DROP CONSTRAINT ticket_sla_policies_category_check,
    ADD CONSTRAINT ticket_sla_policies_category_fkey FOREIGN KEY (tenant_id, category)
        REFERENCES ticket_categories (tenant_id, code);
ALTER TABLE kb_articles DROP CONSTRAINT kb_articles_category_check,
    ADD CONSTRAINT kb_articles_category_fkey FOREIGN KEY (tenant_id, category)
        REFERENCES ticket_categories (tenant_id, code);
CREATE INDEX kb_articles_category_idx ON kb_articles (tenant_id, category) WHERE category IS NOT NULL;

-- An array cannot carry a foreign key: agent groups name only the ISP's categories, checked
-- when written (a category in a group's list is never deleted, see above).
CREATE FUNCTION agent_groups_categories_known() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM unnest(NEW.categories) AS c (code)
               WHERE NOT EXISTS (SELECT 1 FROM ticket_categories tc
                                 WHERE tc.tenant_id = NEW.tenant_id AND tc.code = c.code)) THEN
        RAISE EXCEPTION 'unknown ticket category in %', NEW.categories
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'agent_groups_categories_fkey';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER agent_groups_categories_known BEFORE INSERT OR UPDATE OF categories ON agent_groups
    FOR EACH ROW EXECUTE FUNCTION agent_groups_categories_known();

-- Outage linking follows the category's kind, so an ISP's own "no link at the dacha" category
-- of kind connectivity is linked like the built-in.
CREATE OR REPLACE FUNCTION tickets_link_incident() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ticket_categories c
               WHERE c.tenant_id = NEW.tenant_id AND c.code = NEW.category
                 AND c.kind IN ('connectivity', 'speed')) THEN
        INSERT INTO incident_tickets (tenant_id, incident_id, ticket_id, linked_at)
        SELECT NEW.tenant_id, i.id, NEW.id, NEW.created_at
        FROM incident_subscribers s
        JOIN incidents i ON i.tenant_id = s.tenant_id AND i.id = s.incident_id
        WHERE s.tenant_id = NEW.tenant_id AND s.subscriber_id = NEW.subscriber_id
          AND i.closed_at IS NULL
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
