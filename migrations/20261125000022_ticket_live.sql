-- Live ticket updates: every change a ticket page or the queue shows is announced on the
-- `kabinet_tickets` channel, whatever code path (handler, worker, merge) made it. NOTIFY is
-- delivered on commit, so only committed changes are announced, to every node (each runs one
-- LISTEN connection and fans the events out to its SSE streams, `kabinet_ticketing::live`).
--
-- The payload names ids and a kind, never text: {"tenant_id", "ticket_id", "subscriber_id",
-- "kind", "internal"}. `internal` marks what only staff see (notes and their files, desk events);
-- a subscriber's stream never carries those.

CREATE FUNCTION ticket_live_notify(p_tenant uuid, p_ticket uuid, p_kind text, p_internal boolean)
    RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('kabinet_tickets', json_build_object(
        'tenant_id', p_tenant,
        'ticket_id', p_ticket,
        'subscriber_id', (SELECT t.subscriber_id FROM tickets t WHERE t.tenant_id = p_tenant AND t.id = p_ticket),
        'kind', p_kind,
        'internal', p_internal)::text);
END
$$;

-- TG_ARGV: the kind, and for the thread tables whether it is internal.
CREATE FUNCTION notify_ticket_live() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_TABLE_NAME = 'tickets' THEN
        PERFORM ticket_live_notify(NEW.tenant_id, NEW.id, TG_ARGV[0], false);
    ELSIF TG_TABLE_NAME = 'ticket_attachments' THEN
        PERFORM ticket_live_notify(NEW.tenant_id, NEW.ticket_id, 'attachment', NEW.note_id IS NOT NULL);
    ELSE
        PERFORM ticket_live_notify(NEW.tenant_id, NEW.ticket_id, TG_ARGV[0], TG_ARGV[1]::boolean);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tickets_live_created AFTER INSERT ON tickets
    FOR EACH ROW EXECUTE FUNCTION notify_ticket_live('created');
CREATE TRIGGER tickets_live_status AFTER UPDATE OF status ON tickets
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION notify_ticket_live('status');
CREATE TRIGGER ticket_messages_live AFTER INSERT ON ticket_messages
    FOR EACH ROW EXECUTE FUNCTION notify_ticket_live('message', 'false');
-- Internal: notes, and the desk's history (priority, assignee, tags, SLA warnings).
CREATE TRIGGER ticket_notes_live AFTER INSERT ON ticket_notes
    FOR EACH ROW EXECUTE FUNCTION notify_ticket_live('note', 'true');
CREATE TRIGGER ticket_events_live AFTER INSERT ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION notify_ticket_live('event', 'true');
CREATE TRIGGER ticket_attachments_live AFTER INSERT ON ticket_attachments
    FOR EACH ROW EXECUTE FUNCTION notify_ticket_live();
