-- Platform tables: the ISPs themselves and the hosts that lead to them. These are not
-- tenant-owned (the gateway reads them before it knows the tenant), so they carry no RLS;
-- tests/it/schema.rs lists them as the only exceptions.

CREATE TABLE tenants (
    id             uuid PRIMARY KEY,
    slug           text NOT NULL CONSTRAINT tenants_slug_key UNIQUE
                   CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$'),
    display_name   text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    saas_plan      text NOT NULL,
    currency       char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    default_locale text NOT NULL DEFAULT 'ru' CHECK (default_locale IN ('ru', 'en')),
    time_zone      text NOT NULL DEFAULT 'Europe/Moscow',
    branding       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- A host name that leads to a tenant: its platform subdomain or a custom domain.
-- Custom domains are served only once verified (DNS TXT; the console issue adds the flow).
CREATE TABLE tenant_hosts (
    host        text PRIMARY KEY CHECK (host = lower(host) AND length(host) <= 253),
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('subdomain', 'custom')),
    verified_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_hosts_tenant_idx ON tenant_hosts (tenant_id);

-- Every node caches host -> tenant; any change here tells them all to drop the cache.
CREATE FUNCTION notify_tenancy_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('kabinet_tenancy', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER tenants_changed AFTER INSERT OR UPDATE OR DELETE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION notify_tenancy_changed();
CREATE TRIGGER tenant_hosts_changed AFTER INSERT OR UPDATE OR DELETE ON tenant_hosts
    FOR EACH STATEMENT EXECUTE FUNCTION notify_tenancy_changed();

-- The manifest last applied to each tenant, so `tenants apply` can report removed fields.
CREATE TABLE tenant_manifests (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    manifest   jsonb NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
SELECT enable_tenant_isolation('tenant_manifests');
