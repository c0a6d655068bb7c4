-- Staff can dismiss a suggested incident (a NAS whose accounting stopped) when they know why it
-- is quiet (planned maintenance, a decommissioned box). The dismissal is for that silence only:
-- it remembers when the NAS last sent accounting, and once the NAS speaks again and later falls
-- silent anew, the suggestion comes back.
CREATE TABLE incident_suggestion_dismissals (
    tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    nas_id               uuid NOT NULL,
    -- The NAS's last accounting when it was dismissed: the silence this dismissal covers.
    silent_since         timestamptz NOT NULL,
    dismissed_by_staff_id uuid NOT NULL,
    dismissed_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, nas_id),
    FOREIGN KEY (tenant_id, nas_id) REFERENCES nas (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, dismissed_by_staff_id) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('incident_suggestion_dismissals');
