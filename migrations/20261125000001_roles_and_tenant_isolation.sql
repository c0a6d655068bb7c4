-- The ground rules every later migration builds on.
--
-- Roles: `kabinet_owner` owns the schema and runs migrations; `kabinet_app` is what the running
-- service logs in as: it owns nothing, cannot bypass row-level security, and gets only DML.
-- Both are created beforehand (kabinet db bootstrap / deploy/postgres/roles.sql) because creating
-- roles needs a privilege the owner deliberately lacks; this migration only checks for them.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kabinet_app') THEN
        RAISE EXCEPTION 'role kabinet_app is missing: run deploy/postgres/roles.sql (or kabinet db bootstrap) first';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kabinet_app' AND (rolbypassrls OR rolsuper)) THEN
        RAISE EXCEPTION 'role kabinet_app must be NOSUPERUSER NOBYPASSRLS';
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO kabinet_app;
-- Everything the migrating role creates from here on is usable (not owned) by the app role.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO kabinet_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO kabinet_app;
-- Readiness (`/readyz`) compares applied migrations with the binary's.
GRANT SELECT ON _sqlx_migrations TO kabinet_app;

-- The tenant the current transaction is scoped to, or NULL. `missing_ok` plus NULLIF: an unset
-- setting (or one reset to '' after an earlier transaction) matches no row instead of erroring.
CREATE FUNCTION app_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

-- Puts a tenant-owned table under forced row-level security. Every migration that creates a
-- table with a tenant_id calls this; tests/it/schema.rs fails the build when one is missed.
CREATE FUNCTION enable_tenant_isolation(tbl regclass) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format(
        'CREATE POLICY tenant_isolation ON %s USING (tenant_id = app_current_tenant()) '
        'WITH CHECK (tenant_id = app_current_tenant())', tbl);
END
$$;
