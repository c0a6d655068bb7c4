-- Ticket attachments (files on messages and internal notes, the bytes in the object store) and
-- notifications to subscribers (in-app rows; their letters go through mail_outbox, now with an
-- idempotency key so an event is told about once however often it is retried).

-- A file on a public message or on an internal note (never both). The object lives at
-- `object_key` in the object store; the row is written in the same transaction as the message,
-- so a rolled-back message leaves no attachment row (and the gateway deletes the object).
CREATE TABLE ticket_attachments (
    tenant_id                uuid NOT NULL,
    id                       uuid NOT NULL,
    ticket_id                uuid NOT NULL,
    message_id               uuid,
    note_id                  uuid,
    file_name                text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    -- Sniffed from the content, never taken from the client.
    content_type             text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp',
                                                                    'image/gif', 'application/pdf', 'text/plain')),
    size_bytes               bigint NOT NULL CHECK (size_bytes > 0),
    sha256                   bytea NOT NULL CHECK (length(sha256) = 32),
    object_key               text NOT NULL CHECK (length(object_key) BETWEEN 1 AND 500),
    uploaded_by_subscriber_id uuid,
    uploaded_by_staff_id     uuid,
    created_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT ticket_attachments_object_key UNIQUE (tenant_id, object_key),
    CHECK ((message_id IS NULL) <> (note_id IS NULL)),
    CHECK ((uploaded_by_subscriber_id IS NULL) <> (uploaded_by_staff_id IS NULL)),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, message_id) REFERENCES ticket_messages (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, note_id) REFERENCES ticket_notes (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, uploaded_by_subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, uploaded_by_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('ticket_attachments');
-- A thread's attachments in one query.
CREATE INDEX ticket_attachments_ticket_idx ON ticket_attachments (tenant_id, ticket_id, created_at);
-- Attachments are history: the app adds them, never edits them.
REVOKE UPDATE ON ticket_attachments FROM kabinet_app;

-- The subscriber's language for letters and notifications; NULL: the ISP's default language.
ALTER TABLE subscribers ADD COLUMN locale text CHECK (locale IN ('ru', 'en'));

-- What a subscriber is told about a ticket, shown in the portal's bell. `event_key` names the
-- event (`reply:<message>`, `status:<event>`, `overdue:<ticket>:<kind>`): one notification per
-- event, however often the transaction or the worker runs.
CREATE TABLE notifications (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    subscriber_id uuid NOT NULL,
    ticket_id     uuid NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('ticket_reply', 'ticket_status', 'ticket_overdue')),
    event_key     text NOT NULL CHECK (length(event_key) BETWEEN 1 AND 200),
    -- The ticket's number and subject when it happened, and the new status for a status change.
    ticket_number bigint NOT NULL,
    ticket_subject text NOT NULL,
    status        text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    read_at       timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT notifications_event_key UNIQUE (tenant_id, event_key),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('notifications');
-- The bell: newest first, keyset on (created_at, id); the unread count.
CREATE INDEX notifications_subscriber_idx ON notifications (tenant_id, subscriber_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (tenant_id, subscriber_id) WHERE read_at IS NULL;
REVOKE DELETE ON notifications FROM kabinet_app;

-- A letter about an event carries the event's key: a second enqueue of the same event is a
-- no-op. NULL for letters that need no such guard (password reset: each request is new).
ALTER TABLE mail_outbox ADD COLUMN idempotency_key text CHECK (length(idempotency_key) <= 200);
CREATE UNIQUE INDEX mail_outbox_idempotency_key ON mail_outbox (tenant_id, idempotency_key);
