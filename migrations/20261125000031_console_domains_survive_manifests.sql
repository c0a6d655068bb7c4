-- A custom domain the ISP added in the console is the ISP's, not the manifest's: applying
-- `tenants/*.toml` again (every start of the development server does) must not delete it.
-- Manifests remove only the hosts they declared themselves.
ALTER TABLE tenant_hosts ADD COLUMN from_manifest boolean NOT NULL DEFAULT false;
-- Every custom host before the console's domain page existed came from a manifest.
UPDATE tenant_hosts SET from_manifest = true WHERE kind = 'custom' AND checked_at IS NULL;
