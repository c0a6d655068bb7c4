-- Custom domains in the console: an ISP adds its own host name, proves it owns it with a DNS TXT
-- record (`_kabinet-challenge.<host>` = `kabinet-verification=<token>`), and only then is the
-- portal served there (`verified_at`). Each host gets its own random token; the outcome of the
-- last check is kept so the console can say why a domain is not verified yet.
ALTER TABLE tenant_hosts
    ADD COLUMN verification_token text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', ''),
    ADD COLUMN checked_at timestamptz,
    ADD COLUMN check_failure text
        CHECK (check_failure IN ('nxdomain', 'no_record', 'wrong_value', 'timeout', 'resolver_error')),
    ADD COLUMN check_detail text CHECK (length(check_detail) <= 500);

-- Only what routing reads announces a change: a failed check (which writes `checked_at` and
-- `check_failure` only) must not make every node drop its whole host cache.
DROP TRIGGER tenant_hosts_changed ON tenant_hosts;
CREATE TRIGGER tenant_hosts_changed
    AFTER INSERT OR DELETE OR UPDATE OF host, tenant_id, kind, verified_at ON tenant_hosts
    FOR EACH STATEMENT EXECUTE FUNCTION notify_tenancy_changed();
