-- Auto-assignment: agent groups (skills = the ticket categories a group handles), their members,
-- agents' shifts, and the per-group round-robin cursor. A ticket is routed to a group by its
-- category (`kabinet_ticketing::assignment::route`); unassigned active tickets of a group with
-- auto-assignment on go to an on-shift member.

CREATE TABLE agent_groups (
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid NOT NULL,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 80 AND name = btrim(name)),
    mode           text NOT NULL CHECK (mode IN ('round_robin', 'least_loaded')),
    -- Ticket categories (`kabinet_ticketing::Category`) the group handles. Empty: the default
    -- group, for every category no other group lists.
    categories     text[] NOT NULL DEFAULT '{}',
    -- Lower first when two groups list the same category.
    position       integer NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 1000),
    auto_assign    boolean NOT NULL DEFAULT true,
    -- Round-robin cursor: the member who got the group's last ticket. The next one goes to the
    -- first eligible member after it (by staff id). Advanced in the assigning statement, under
    -- the group row's lock.
    last_staff_id  uuid,
    assigned_total bigint NOT NULL DEFAULT 0 CHECK (assigned_total >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
SELECT enable_tenant_isolation('agent_groups');
CREATE UNIQUE INDEX agent_groups_name_key ON agent_groups (tenant_id, lower(name));

CREATE TABLE agent_group_members (
    tenant_id uuid NOT NULL,
    group_id  uuid NOT NULL,
    staff_id  uuid NOT NULL,
    PRIMARY KEY (tenant_id, group_id, staff_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES agent_groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('agent_group_members');
CREATE INDEX agent_group_members_staff_idx ON agent_group_members (tenant_id, staff_id);

-- Shifts as started and ended in the console. INVARIANT: at most one open shift per agent
-- (the partial unique index); an agent is on shift while it is open.
CREATE TABLE agent_shifts (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL,
    staff_id   uuid NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
SELECT enable_tenant_isolation('agent_shifts');
CREATE UNIQUE INDEX agent_shifts_open_key ON agent_shifts (tenant_id, staff_id) WHERE ended_at IS NULL;
CREATE INDEX agent_shifts_staff_idx ON agent_shifts (tenant_id, staff_id, started_at DESC);
REVOKE DELETE ON agent_shifts FROM kabinet_app;

-- The pool the assigner takes from: active unassigned tickets by category, oldest first.
CREATE INDEX tickets_unassigned_idx ON tickets (tenant_id, category, created_at, id)
    WHERE assignee_staff_id IS NULL AND status IN ('new', 'open');
