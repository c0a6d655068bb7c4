-- Exporting a whole tenant and deleting it after a grace period. Both tables are platform
-- tables (no row-level security): they are the operator's records about a tenant and outlive
-- it, so neither cascades from `tenants`.

-- One full-data export: an archive (`.tar.gz`, one CSV file per tenant table plus the
-- attachment objects) built by a background worker and kept in the object store.
CREATE TABLE tenant_exports (
    id            uuid PRIMARY KEY,
    -- No foreign key: the export (and its archive) stays after the tenant is deleted.
    tenant_id     uuid NOT NULL,
    slug          text NOT NULL,
    requested_by  uuid NOT NULL REFERENCES operators (id),
    requested_by_name text NOT NULL,
    state         text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    -- A worker's claim: another node may take the job over once it has passed (the worker died).
    lease_until   timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    object_key    text,
    bytes         bigint,
    tables        integer,
    rows_exported bigint,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    CHECK ((state = 'done') = (object_key IS NOT NULL AND finished_at IS NOT NULL))
);
CREATE INDEX tenant_exports_tenant_idx ON tenant_exports (tenant_id, created_at DESC);
CREATE INDEX tenant_exports_pending_idx ON tenant_exports (created_at) WHERE state IN ('queued', 'running');

-- A scheduled deletion and, once carried out, the tenant's tombstone: who asked, why, which
-- export preceded it, when it ran. The slug stays reserved until `slug_reserved_until`.
CREATE TABLE tenant_deletions (
    id                  uuid PRIMARY KEY,
    -- No foreign key: the row is the tombstone of a tenant that no longer exists.
    tenant_id           uuid NOT NULL,
    slug                text NOT NULL,
    display_name        text NOT NULL,
    reason              text NOT NULL CHECK (length(reason) BETWEEN 10 AND 500),
    export_id           uuid NOT NULL REFERENCES tenant_exports (id),
    requested_by        uuid NOT NULL REFERENCES operators (id),
    requested_by_name   text NOT NULL,
    requested_at        timestamptz NOT NULL DEFAULT now(),
    -- The end of the grace period: the worker deletes the tenant from then on.
    due_at              timestamptz NOT NULL,
    -- What cancelling restores: the tenant was suspended already before the deletion was scheduled.
    was_suspended       boolean NOT NULL,
    previous_suspended_reason text,
    state               text NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'cancelled', 'deleted')),
    cancelled_at        timestamptz,
    cancelled_by        uuid REFERENCES operators (id),
    cancelled_by_name   text,
    deleted_at          timestamptz,
    -- What the deletion removed: rows per table, and the objects once they are gone too.
    deleted_rows        jsonb,
    objects_purged_at   timestamptz,
    slug_reserved_until timestamptz,
    CHECK (due_at > requested_at),
    CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL)),
    CHECK ((state = 'deleted') = (deleted_at IS NOT NULL AND slug_reserved_until IS NOT NULL))
);
-- At most one deletion in its grace period per tenant.
CREATE UNIQUE INDEX tenant_deletions_scheduled_key ON tenant_deletions (tenant_id) WHERE state = 'scheduled';
CREATE INDEX tenant_deletions_due_idx ON tenant_deletions (due_at) WHERE state = 'scheduled';
CREATE INDEX tenant_deletions_slug_idx ON tenant_deletions (slug, slug_reserved_until) WHERE state = 'deleted';
CREATE INDEX tenant_deletions_purge_idx ON tenant_deletions (deleted_at) WHERE state = 'deleted' AND objects_purged_at IS NULL;

-- A deleted tenant's slug is not handed out again while it is reserved, whatever the path
-- (signup, a manifest, the console).
CREATE FUNCTION tenants_slug_not_reserved() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM tenant_deletions d
               WHERE d.slug = NEW.slug AND d.state = 'deleted' AND d.slug_reserved_until > now()) THEN
        RAISE EXCEPTION 'the slug % belonged to a deleted tenant and is reserved', NEW.slug
            USING ERRCODE = '23505', CONSTRAINT = 'tenants_slug_key';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tenants_slug_not_reserved BEFORE INSERT OR UPDATE OF slug ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenants_slug_not_reserved();
