-- Ticket search ranks only the newest matches of each kind (`RECENT_MATCHES` in
-- crates/ticketing/src/search.rs): subjects, messages and internal notes matching the query,
-- newest first by (created_at, id), at most K of each. For a common word the planner walks these
-- indexes from the newest row and stops after K matches instead of fetching and ranking every
-- match the GIN index (tenant_id, search_tsv) lists; for a rare word it still takes the GIN index.
CREATE INDEX ticket_messages_recent_idx ON ticket_messages (tenant_id, created_at DESC, id DESC);
CREATE INDEX ticket_notes_recent_idx ON ticket_notes (tenant_id, created_at DESC, id DESC);
CREATE INDEX tickets_recent_idx ON tickets (tenant_id, created_at DESC, id DESC);
