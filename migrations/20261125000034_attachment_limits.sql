-- Attachments: the ISP's own limits, and the objects written but not (yet) recorded.

-- The ISP's limits on the files of one message (`kabinet_ticketing::attachment_limits`),
-- never above the platform's caps (10 MiB a file, 25 MiB a message), which also stand when an
-- ISP has no row. A file is never allowed more than the message it is on.
CREATE TABLE attachment_limits (
    tenant_id           uuid NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    max_file_bytes      bigint NOT NULL CHECK (max_file_bytes BETWEEN 1 AND 10485760),
    max_message_bytes   bigint NOT NULL CHECK (max_message_bytes BETWEEN 1 AND 26214400),
    updated_by_staff_id uuid NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (max_file_bytes <= max_message_bytes),
    FOREIGN KEY (tenant_id, updated_by_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('attachment_limits');

-- An object about to be written to the attachment store. The row is committed before the
-- object is written and deleted in the transaction that records the attachment, so an object
-- a crash or a rollback left behind always has a row here; the sweeper
-- (`kabinet_ticketing::attachment_sweeper`) deletes the objects of rows older than its grace
-- period, then the rows (taken `FOR UPDATE SKIP LOCKED`, so several nodes share the work).
CREATE TABLE pending_uploads (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    object_key text NOT NULL CHECK (length(object_key) BETWEEN 1 AND 500),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, object_key)
);
CREATE INDEX pending_uploads_age ON pending_uploads (tenant_id, created_at);
SELECT enable_tenant_isolation('pending_uploads');
