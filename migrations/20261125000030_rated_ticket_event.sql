-- A subscriber's rating (or a changed one) is a line in the staff thread, like every other
-- change to a ticket.
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_kind_check;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_kind_check
    CHECK (kind IN ('status', 'priority', 'assignee', 'tag_added', 'tag_removed',
                    'first_response_warning', 'first_response_breach',
                    'resolution_warning', 'resolution_breach',
                    'merged_into', 'merged_from', 'rated'));
