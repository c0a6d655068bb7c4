-- The agent desk: lifecycle timestamps, priority, assignment history, tags, internal notes and
-- SLA (policies per priority and category, business hours and holidays per tenant).

ALTER TABLE tickets
    ADD COLUMN priority text NOT NULL DEFAULT 'normal'
        CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    -- The first public staff reply (first response, for the SLA).
    ADD COLUMN first_responded_at timestamptz,
    ADD COLUMN resolved_at timestamptz,
    ADD COLUMN closed_at timestamptz,
    -- SLA clock. Targets are snapshots of the policy that applied when the due times were last
    -- computed; the due and warning times are absolute instants (business time already applied).
    ADD COLUMN sla_first_response_minutes integer CHECK (sla_first_response_minutes > 0),
    ADD COLUMN sla_resolution_minutes integer CHECK (sla_resolution_minutes > 0),
    ADD COLUMN sla_raise_on_breach boolean NOT NULL DEFAULT false,
    ADD COLUMN first_response_due_at timestamptz,
    ADD COLUMN first_response_warn_at timestamptz,
    ADD COLUMN resolution_due_at timestamptz,
    ADD COLUMN resolution_warn_at timestamptz,
    -- Business minutes spent waiting on the customer (or resolved before a reopen): they
    -- push the due times out. `sla_paused_at` is set while the clock stands.
    ADD COLUMN sla_paused_minutes integer NOT NULL DEFAULT 0 CHECK (sla_paused_minutes >= 0),
    ADD COLUMN sla_paused_at timestamptz,
    -- Escalations, each recorded once: the worker only sets a NULL column.
    ADD COLUMN first_response_warned_at timestamptz,
    ADD COLUMN first_response_breached_at timestamptz,
    ADD COLUMN resolution_warned_at timestamptz,
    ADD COLUMN resolution_breached_at timestamptz;

-- Queue filters.
CREATE INDEX tickets_assignee_idx ON tickets (tenant_id, assignee_staff_id, updated_at DESC, id DESC);
CREATE INDEX tickets_priority_idx ON tickets (tenant_id, priority, updated_at DESC, id DESC);
CREATE INDEX tickets_category_idx ON tickets (tenant_id, category, updated_at DESC, id DESC);
-- The escalation worker and the overdue filter look at active tickets only.
CREATE INDEX tickets_active_sla_idx ON tickets (tenant_id, resolution_warn_at)
    WHERE status IN ('new', 'open');
-- The auto-close run.
CREATE INDEX tickets_resolved_idx ON tickets (tenant_id, resolved_at) WHERE status = 'resolved';

-- Per-ISP desk settings. A tenant without a row gets the defaults (the same as the column
-- defaults here); business hours are [{"weekday":1..7 (ISO, Monday = 1),"opens":minute,
-- "closes":minute}] in the ISP's time zone, validated by the ticketing crate.
CREATE TABLE ticket_settings (
    tenant_id       uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    reopen_days     integer NOT NULL DEFAULT 7 CHECK (reopen_days BETWEEN 0 AND 365),
    auto_close_days integer NOT NULL DEFAULT 7 CHECK (auto_close_days BETWEEN 1 AND 365),
    business_hours  jsonb NOT NULL CHECK (jsonb_typeof(business_hours) = 'array'),
    holidays        date[] NOT NULL DEFAULT '{}',
    updated_at      timestamptz NOT NULL DEFAULT now()
);
SELECT enable_tenant_isolation('ticket_settings');

-- SLA targets in business minutes. `category` NULL is the priority's default; a row with a
-- category wins over it. Priorities without a row use the built-in defaults.
CREATE TABLE ticket_sla_policies (
    tenant_id              uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                     uuid NOT NULL,
    priority               text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    category               text CHECK (category IN ('connectivity', 'speed', 'payments', 'tariff', 'addons', 'equipment', 'complaint', 'account_security', 'other')),
    first_response_minutes integer NOT NULL CHECK (first_response_minutes BETWEEN 1 AND 525600),
    resolution_minutes     integer NOT NULL CHECK (resolution_minutes BETWEEN 1 AND 525600),
    raise_priority_on_breach boolean NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT ticket_sla_policies_key UNIQUE NULLS NOT DISTINCT (tenant_id, priority, category)
);
SELECT enable_tenant_isolation('ticket_sla_policies');

-- What happened to a ticket besides messages: shown as system lines in the staff thread.
-- No actor means the system (the SLA worker, auto-close).
CREATE TABLE ticket_events (
    tenant_id           uuid NOT NULL,
    id                  uuid NOT NULL,
    ticket_id           uuid NOT NULL,
    actor_staff_id      uuid,
    actor_subscriber_id uuid,
    kind                text NOT NULL CHECK (kind IN ('status', 'priority', 'assignee', 'tag_added', 'tag_removed',
                                                      'first_response_warning', 'first_response_breach',
                                                      'resolution_warning', 'resolution_breach')),
    old_value           text,
    new_value           text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK (actor_staff_id IS NULL OR actor_subscriber_id IS NULL),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, actor_staff_id) REFERENCES staff (tenant_id, id),
    FOREIGN KEY (tenant_id, actor_subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('ticket_events');
CREATE INDEX ticket_events_ticket_idx ON ticket_events (tenant_id, ticket_id, created_at);

-- Internal notes: staff only. A table of their own, so no subscriber query can return one.
CREATE TABLE ticket_notes (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    ticket_id       uuid NOT NULL,
    author_staff_id uuid NOT NULL,
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, author_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('ticket_notes');
CREATE INDEX ticket_notes_ticket_idx ON ticket_notes (tenant_id, ticket_id, created_at);

-- Tags, normalised by the ticketing crate (lower case, single spaces).
CREATE TABLE ticket_tags (
    tenant_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    tag       text NOT NULL CHECK (length(tag) BETWEEN 1 AND 40 AND tag = lower(tag)),
    PRIMARY KEY (tenant_id, ticket_id, tag),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('ticket_tags');
CREATE INDEX ticket_tags_tag_idx ON ticket_tags (tenant_id, tag, ticket_id);
