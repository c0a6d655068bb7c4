-- Satisfaction ratings (CSAT 1–5 plus a comment) a subscriber gives a resolved or closed ticket.
-- Desk analytics read these and `tickets`; they need no table of their own.

-- One rating per resolution: `resolution_at` is the instant the ticket was resolved (or closed
-- without a resolution) when it was rated. Rating the same resolution again updates the row
-- (retries are no-ops); a reopened and re-resolved ticket has a new `resolution_at`, so a new
-- row, and the earlier rating stays for the period it belongs to. `assignee_staff_id` is who
-- had the ticket then: per-agent CSAT does not move when the ticket is reassigned later.
CREATE TABLE ticket_ratings (
    tenant_id         uuid NOT NULL,
    id                uuid NOT NULL,
    ticket_id         uuid NOT NULL,
    subscriber_id     uuid NOT NULL,
    resolution_at     timestamptz NOT NULL,
    assignee_staff_id uuid,
    score             smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment           text CHECK (length(comment) BETWEEN 1 AND 2000),
    rated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT ticket_ratings_resolution_key UNIQUE (tenant_id, ticket_id, resolution_at),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, assignee_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('ticket_ratings');
-- Analytics: the ratings given in a period.
CREATE INDEX ticket_ratings_rated_idx ON ticket_ratings (tenant_id, rated_at);
REVOKE DELETE ON ticket_ratings FROM kabinet_app;

-- Analytics: tickets opened in a period (volume, response times, SLA compliance).
CREATE INDEX tickets_created_idx ON tickets (tenant_id, created_at);

