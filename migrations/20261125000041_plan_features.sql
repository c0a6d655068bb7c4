-- A SaaS plan's features are enforced like its limits: by the statement that writes the rows a
-- feature needs, so every path (console, API, manifests, signup) obeys them. Rows that exist
-- when an ISP moves to a smaller plan stay and keep working; only new ones are refused.
--   custom_domains   a custom host (tenant_hosts.kind = 'custom')
--   online_payments  a connected Stripe account, and each card payment started
--   network          a NAS
-- The error: SQLSTATE KBPF1, DETAIL a JSON {feature}; the gateway maps it to a 403
-- `plan_feature_missing` problem.
CREATE FUNCTION plan_feature_check(t uuid, feature text) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM tenants te JOIN saas_plans p ON p.code = te.saas_plan
                   WHERE te.id = t AND feature = ANY (p.features)) THEN
        RAISE EXCEPTION 'plan_feature_missing: %', feature
            USING ERRCODE = 'KBPF1',
                  DETAIL = json_build_object('feature', feature)::text;
    END IF;
END
$$;

-- Row-level: these tables take one row at a time, and the check is one index lookup.
CREATE FUNCTION plan_feature_required() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM plan_feature_check(NEW.tenant_id, TG_ARGV[0]);
    RETURN NEW;
END
$$;

CREATE TRIGGER tenant_hosts_plan_feature BEFORE INSERT ON tenant_hosts
    FOR EACH ROW WHEN (NEW.kind = 'custom')
    EXECUTE FUNCTION plan_feature_required('custom_domains');
CREATE TRIGGER stripe_accounts_plan_feature BEFORE INSERT ON stripe_accounts
    FOR EACH ROW EXECUTE FUNCTION plan_feature_required('online_payments');
CREATE TRIGGER online_payments_plan_feature BEFORE INSERT ON online_payments
    FOR EACH ROW EXECUTE FUNCTION plan_feature_required('online_payments');
CREATE TRIGGER nas_plan_feature BEFORE INSERT ON nas
    FOR EACH ROW EXECUTE FUNCTION plan_feature_required('network');
