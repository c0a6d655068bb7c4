-- Outage incidents: staff declare one for an area (NAS, NAS area codes, address fragments),
-- the affected subscribers are computed once at declaration and told once, tickets are linked
-- (by staff, or automatically when an affected subscriber reports a connectivity or speed
-- problem while it is active), updates reach every linked ticket, closing resolves them.

CREATE TABLE incidents (
    tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                   uuid NOT NULL,
    title                text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- What subscribers are told (dashboard, new-ticket form, the letter).
    message              text NOT NULL CHECK (length(message) BETWEEN 1 AND 5000),
    -- The area as declared. NAS ids are not foreign keys: the incident is history and
    -- outlives a NAS that is later removed.
    nas_ids              uuid[] NOT NULL DEFAULT '{}',
    area_codes           text[] NOT NULL DEFAULT '{}',
    address_fragments    text[] NOT NULL DEFAULT '{}',
    started_at           timestamptz NOT NULL,
    declared_by_staff_id uuid NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    closed_at            timestamptz,
    closed_by_staff_id   uuid,
    -- Told to subscribers with the "service restored" letter.
    close_message        text CHECK (length(close_message) BETWEEN 1 AND 5000),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, declared_by_staff_id) REFERENCES staff (tenant_id, id),
    FOREIGN KEY (tenant_id, closed_by_staff_id) REFERENCES staff (tenant_id, id),
    CHECK (cardinality(nas_ids) + cardinality(area_codes) + cardinality(address_fragments) > 0),
    CHECK ((closed_at IS NULL) = (closed_by_staff_id IS NULL)),
    CHECK (close_message IS NULL OR closed_at IS NOT NULL)
);
SELECT enable_tenant_isolation('incidents');
-- The console's lists (active, closed), newest first.
CREATE INDEX incidents_list_idx ON incidents (tenant_id, created_at DESC, id DESC);
CREATE INDEX incidents_active_idx ON incidents (tenant_id) WHERE closed_at IS NULL;
REVOKE DELETE ON incidents FROM kabinet_app;

-- The subscribers an incident covers, computed at declaration. INVARIANT: one row per
-- subscriber, so each is told exactly once.
CREATE TABLE incident_subscribers (
    tenant_id     uuid NOT NULL,
    incident_id   uuid NOT NULL,
    subscriber_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, incident_id, subscriber_id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('incident_subscribers');
-- "Is there an outage covering me?" (dashboard, self-diagnosis, auto-link).
CREATE INDEX incident_subscribers_subscriber_idx ON incident_subscribers (tenant_id, subscriber_id);

-- Tickets linked to an incident. `linked_by_staff_id` NULL: linked automatically.
CREATE TABLE incident_tickets (
    tenant_id          uuid NOT NULL,
    incident_id        uuid NOT NULL,
    ticket_id          uuid NOT NULL,
    linked_at          timestamptz NOT NULL DEFAULT now(),
    linked_by_staff_id uuid,
    PRIMARY KEY (tenant_id, incident_id, ticket_id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, linked_by_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('incident_tickets');
CREATE INDEX incident_tickets_ticket_idx ON incident_tickets (tenant_id, ticket_id);

-- Updates posted while the incident runs; each reached the linked tickets as a public reply.
CREATE TABLE incident_updates (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    incident_id     uuid NOT NULL,
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    author_staff_id uuid NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, author_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('incident_updates');
CREATE INDEX incident_updates_incident_idx ON incident_updates (tenant_id, incident_id, created_at DESC);
REVOKE UPDATE, DELETE ON incident_updates FROM kabinet_app;

-- A connectivity or speed ticket from a subscriber an active incident covers is linked to it,
-- by whatever code path the ticket is created. Other categories (payments …) are not the
-- outage's business and are never resolved by closing it.
CREATE FUNCTION tickets_link_incident() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.category IN ('connectivity', 'speed') THEN
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
CREATE TRIGGER tickets_link_incident AFTER INSERT ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_link_incident();
