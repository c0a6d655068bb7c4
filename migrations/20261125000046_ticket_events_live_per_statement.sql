-- Desk events are announced once per statement and ticket, not once per row.
--
-- The SLA worker, an incident's close and a merge insert events for many tickets in one
-- statement (a backlog round after downtime: tens of thousands). The row trigger paid a
-- PL/pgSQL call, a ticket lookup and a NOTIFY per event; this one reads the statement's new
-- rows once, joins their tickets once and sends one notification per ticket. The payload is the
-- same as before (`ticket_live_notify`'s), and identical payloads were already folded into one
-- by NOTIFY within a transaction, so listeners see exactly what they saw.
CREATE FUNCTION notify_ticket_events_live() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('kabinet_tickets', json_build_object(
        'tenant_id', e.tenant_id,
        'ticket_id', e.ticket_id,
        'subscriber_id', t.subscriber_id,
        'kind', 'event',
        'internal', true)::text)
    FROM (SELECT DISTINCT tenant_id, ticket_id FROM inserted) e
    LEFT JOIN tickets t ON t.tenant_id = e.tenant_id AND t.id = e.ticket_id;
    RETURN NULL;
END
$$;

DROP TRIGGER ticket_events_live ON ticket_events;
CREATE TRIGGER ticket_events_live AFTER INSERT ON ticket_events
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION notify_ticket_events_live();
