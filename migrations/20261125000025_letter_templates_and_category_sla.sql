-- An ISP's own wording of the letters its subscribers get about their tickets, per letter kind
-- and language. No row: the built-in letter. `subject` and `body` are templates with
-- `{{ticket.number}}`-style placeholders, checked by the ticketing crate's parser when saved
-- (an unknown or unclosed placeholder never gets here). The button to the ticket, the quoted
-- reply and the signature are the layout's, not the template's.
--
-- Per-category SLA targets need no table of their own: `ticket_sla_policies.category`
-- (migration 12) already narrows a priority's policy to one category.
CREATE TABLE letter_templates (
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind                text NOT NULL CHECK (kind IN ('ticket_reply', 'ticket_status', 'ticket_overdue')),
    language            text NOT NULL CHECK (language IN ('ru', 'en')),
    subject             text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    body                text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    updated_by_staff_id uuid NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, kind, language),
    FOREIGN KEY (tenant_id, updated_by_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('letter_templates');
