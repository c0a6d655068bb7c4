-- Support tickets: the skeleton the ticketing issue grows (SLA, queues, attachments, search).

CREATE TABLE ticket_counters (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    last_number bigint NOT NULL
);
SELECT enable_tenant_isolation('ticket_counters');

CREATE TABLE tickets (
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                uuid NOT NULL,
    number            bigint NOT NULL,
    subscriber_id     uuid NOT NULL,
    category          text NOT NULL CHECK (category IN ('connectivity', 'speed', 'payments', 'tariff', 'addons', 'equipment', 'complaint', 'account_security', 'other')),
    subject           text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    status            text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'open', 'waiting_on_customer', 'resolved', 'closed')),
    assignee_staff_id uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT tickets_number_key UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, assignee_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('tickets');
CREATE INDEX tickets_subscriber_idx ON tickets (tenant_id, subscriber_id, updated_at DESC);
-- The agent queue: newest activity first, keyset-paginated on (updated_at, id).
CREATE INDEX tickets_queue_idx ON tickets (tenant_id, status, updated_at DESC, id DESC);
CREATE INDEX tickets_updated_idx ON tickets (tenant_id, updated_at DESC, id DESC);

CREATE TABLE ticket_messages (
    tenant_id            uuid NOT NULL,
    id                   uuid NOT NULL,
    ticket_id            uuid NOT NULL,
    author_subscriber_id uuid,
    author_staff_id      uuid,
    body                 text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK ((author_subscriber_id IS NULL) <> (author_staff_id IS NULL)),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, author_subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, author_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('ticket_messages');
CREATE INDEX ticket_messages_ticket_idx ON ticket_messages (tenant_id, ticket_id, created_at);
