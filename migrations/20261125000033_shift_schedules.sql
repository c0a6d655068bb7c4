-- Agents' weekly shift schedules (`kabinet_ticketing::shifts`), and two more things the
-- portal's bell tells: a ticket merged into another, and outage incidents (declared, each
-- update, service restored).

-- One agent's week: the spans below, in the ISP's time zone (`tenants.time_zone`), and whether
-- the ISP's holidays (`ticket_settings.holidays`) are days off. The worker puts the agent on
-- shift at each span's start and off at its end (with the hand-over of a manual "off shift").
-- `applied_boundary_at` is the last start or end the worker acted on: between two boundaries a
-- manual toggle stands, and a boundary is acted on once however many workers run (the row is
-- taken `FOR UPDATE SKIP LOCKED` and the column only moves forward).
CREATE TABLE agent_shift_schedules (
    tenant_id           uuid NOT NULL,
    staff_id            uuid NOT NULL,
    off_on_holidays     boolean NOT NULL DEFAULT true,
    applied_boundary_at timestamptz NOT NULL,
    updated_by_staff_id uuid NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, staff_id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, updated_by_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('agent_shift_schedules');

-- A span starts on `weekday` (ISO: Monday = 1) at local `starts_at` and ends at local
-- `ends_at`, the next day when `ends_at` is not after `starts_at` (an overnight span belongs to
-- the day it starts on, holidays included). Spans of one agent never overlap (checked when
-- saved); a span ending where the next starts keeps the agent on shift.
CREATE TABLE agent_shift_spans (
    tenant_id uuid NOT NULL,
    staff_id  uuid NOT NULL,
    weekday   smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts_at time NOT NULL,
    ends_at   time NOT NULL,
    PRIMARY KEY (tenant_id, staff_id, weekday, starts_at),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES agent_shift_schedules (tenant_id, staff_id)
        ON DELETE CASCADE,
    CHECK (starts_at <> ends_at),
    CHECK (date_trunc('minute', starts_at) = starts_at AND date_trunc('minute', ends_at) = ends_at)
);
SELECT enable_tenant_isolation('agent_shift_spans');

-- The bell: a notification is about a ticket (as before) or about an outage incident.
-- `ticket_merged`: the subscriber's ticket was joined with `merged_into_ticket_id`; follow it
-- there. `incident_*`: keyed `incident:<incident>:<subscriber>`,
-- `incident-update:<update>:<subscriber>`, `incident-closed:<incident>:<subscriber>`.
ALTER TABLE notifications
    ALTER COLUMN ticket_id DROP NOT NULL,
    ALTER COLUMN ticket_number DROP NOT NULL,
    ALTER COLUMN ticket_subject DROP NOT NULL,
    ADD COLUMN incident_id uuid,
    ADD COLUMN incident_title text,
    ADD COLUMN merged_into_ticket_id uuid,
    ADD COLUMN merged_into_number bigint,
    ADD FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id) ON DELETE CASCADE,
    ADD FOREIGN KEY (tenant_id, merged_into_ticket_id) REFERENCES tickets (tenant_id, id)
        ON DELETE CASCADE,
    DROP CONSTRAINT IF EXISTS notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
        'ticket_reply', 'ticket_status', 'ticket_overdue', 'ticket_merged',
        'incident_declared', 'incident_update', 'incident_restored')),
    ADD CONSTRAINT notifications_subject_check CHECK (CASE
        WHEN kind LIKE 'incident\_%' THEN incident_id IS NOT NULL AND incident_title IS NOT NULL
        ELSE ticket_id IS NOT NULL AND ticket_number IS NOT NULL AND ticket_subject IS NOT NULL
             AND (kind <> 'ticket_merged'
                  OR (merged_into_ticket_id IS NOT NULL AND merged_into_number IS NOT NULL))
    END);

ALTER TABLE letter_templates
    DROP CONSTRAINT IF EXISTS letter_templates_kind_check,
    ADD CONSTRAINT letter_templates_kind_check CHECK (kind IN (
        'ticket_reply', 'ticket_status', 'ticket_overdue', 'ticket_merged'));
