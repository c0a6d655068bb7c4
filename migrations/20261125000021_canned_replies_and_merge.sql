-- Canned replies (the team's shared answers, with placeholders filled per ticket) and merging a
-- duplicate ticket into another of the same subscriber.

-- A saved answer. `body` is a template: `{{subscriber.name}}` and friends, checked by the
-- ticketing crate's parser when saved (an unknown placeholder never gets here). `category` is a
-- free label for filtering the picker, normalised like a ticket tag.
CREATE TABLE canned_replies (
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                 uuid NOT NULL,
    title              text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    body               text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    category           text CHECK (length(category) BETWEEN 1 AND 40 AND category = lower(category)),
    created_by_staff_id uuid NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT canned_replies_title_key UNIQUE (tenant_id, title),
    FOREIGN KEY (tenant_id, created_by_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('canned_replies');
-- The picker filters by category and lists by title (the unique key covers the plain list).
CREATE INDEX canned_replies_category_idx ON canned_replies (tenant_id, category, title);

-- A ticket merged into another: its thread, notes, attachments and tags moved to the target,
-- itself closed. One row per merged ticket (the primary key makes a second merge impossible);
-- a ticket that has a row here can't be a merge target.
CREATE TABLE ticket_merges (
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ticket_id         uuid NOT NULL,
    into_ticket_id    uuid NOT NULL,
    merged_by_staff_id uuid NOT NULL,
    merged_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, ticket_id),
    CHECK (ticket_id <> into_ticket_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, into_ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, merged_by_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('ticket_merges');
-- "Merged into this one" on the target.
CREATE INDEX ticket_merges_into_idx ON ticket_merges (tenant_id, into_ticket_id);
-- Merges are history.
REVOKE UPDATE, DELETE ON ticket_merges FROM kabinet_app;

-- A merge moves attachments to the target ticket: the only column of an attachment that changes.
GRANT UPDATE (ticket_id) ON ticket_attachments TO kabinet_app;

-- The merge shows as an event on both tickets.
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_kind_check;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_kind_check
    CHECK (kind IN ('status', 'priority', 'assignee', 'tag_added', 'tag_removed',
                    'first_response_warning', 'first_response_breach',
                    'resolution_warning', 'resolution_breach',
                    'merged_into', 'merged_from'));
