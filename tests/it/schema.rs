//! Schema invariants, checked from the catalog so a new table is covered the day it is added.

use kabinet_db::sqlx;
use kabinet_tests::TestDb;

/// Platform tables: read before a tenant is known, or the operator's own. No RLS, by design.
pub const PLATFORM_TABLES: &[&str] = &[
    "_sqlx_migrations",
    "tenants",
    "tenant_hosts",
    "operators",
    "operator_sessions",
    "login_throttle",
    "stripe_accounts",
    // Source address → ISP: FreeRADIUS asks before the tenant is known (written by a trigger).
    "nas_addresses",
    // Per-tenant counts for the operator console (no subscriber data).
    "tenant_usage",
    // The SaaS price list and each ISP's SaaS billing (dunning) state.
    "saas_plans",
    "saas_billing",
    // SaaS billing at Stripe: customers and subscriptions, daily usage reports, invoices.
    "saas_stripe_objects",
    "saas_billing_customers",
    "saas_usage_reports",
    "saas_invoices",
    // The operator's platform view: requests per minute and node, workers' last passes.
    "request_minutes",
    "worker_passes",
    // Operator records about a tenant that outlive it: full-data exports, deletions (tombstones).
    "tenant_exports",
    "tenant_deletions",
];

pub async fn tenant_tables(admin: &mut sqlx::PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> ALL($1) ORDER BY 1",
    )
    .bind(PLATFORM_TABLES)
    .fetch_all(admin)
    .await
    .expect("catalog query")
}

#[tokio::test]
async fn every_table_is_either_tenant_owned_or_a_listed_platform_table() {
    let db = TestDb::new().await.expect("db");
    let mut admin = db.admin().await.expect("admin");
    let unlisted: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> ALL($1) \
           AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')",
    )
    .bind(PLATFORM_TABLES)
    .fetch_all(&mut admin)
    .await
    .expect("catalog");
    assert!(
        unlisted.is_empty(),
        "tables with no tenant_id that are not declared platform tables: {unlisted:?}"
    );
    assert!(tenant_tables(&mut admin).await.len() >= 10);
}

#[tokio::test]
async fn every_tenant_table_has_forced_row_level_security_with_a_policy() {
    let db = TestDb::new().await.expect("db");
    let mut admin = db.admin().await.expect("admin");
    let offenders: Vec<(String, bool, bool, i64)> = sqlx::query_as(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity, \
                (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) \
         FROM pg_class c WHERE c.relname = ANY($1) \
           AND NOT (c.relrowsecurity AND c.relforcerowsecurity \
                    AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))",
    )
    .bind(tenant_tables(&mut admin).await)
    .fetch_all(&mut admin)
    .await
    .expect("catalog");
    assert!(
        offenders.is_empty(),
        "tenant tables without ENABLE+FORCE row-level security and a policy: {offenders:?}"
    );
}

/// Deleting an ISP is one `DELETE FROM tenants` (the deletion worker): every tenant table must
/// go with it, and no key between tenant tables may stop it halfway (see migration 44).
#[tokio::test]
async fn every_tenant_table_cascades_from_tenants_and_no_key_can_stop_the_cascade() {
    let db = TestDb::new().await.expect("db");
    let mut admin = db.admin().await.expect("admin");
    let tables = tenant_tables(&mut admin).await;
    let no_cascade: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c WHERE c.relname = ANY($1) \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f' \
                             AND k.confrelid = 'tenants'::regclass AND k.confdeltype = 'c') \
         ORDER BY 1",
    )
    .bind(&tables)
    .fetch_all(&mut admin)
    .await
    .expect("catalog");
    assert!(
        no_cascade.is_empty(),
        "tenant tables without `tenant_id REFERENCES tenants ON DELETE CASCADE`: {no_cascade:?}"
    );
    // A key that neither cascades nor is deferrable fails mid-cascade whenever the parent's
    // rows go before the child's.
    let blocking: Vec<String> = sqlx::query_scalar(
        "SELECT k.conrelid::regclass::text || '.' || k.conname FROM pg_constraint k \
         WHERE k.contype = 'f' AND k.conrelid::regclass::text = ANY($1) \
           AND k.confdeltype IN ('a', 'r') AND NOT k.condeferrable ORDER BY 1",
    )
    .bind(&tables)
    .fetch_all(&mut admin)
    .await
    .expect("catalog");
    assert!(
        blocking.is_empty(),
        "keys that would stop a tenant's deletion (make them DEFERRABLE): {blocking:?}"
    );
}

#[tokio::test]
async fn every_index_and_key_on_a_tenant_table_leads_with_tenant_id() {
    let db = TestDb::new().await.expect("db");
    let mut admin = db.admin().await.expect("admin");
    let tables = tenant_tables(&mut admin).await;
    let bad_indexes: Vec<String> = sqlx::query_scalar(
        "SELECT i.relname::text FROM pg_index x \
         JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] \
         WHERE t.relname = ANY($1) AND a.attname <> 'tenant_id'",
    )
    .bind(&tables)
    .fetch_all(&mut admin)
    .await
    .expect("catalog");
    assert!(
        bad_indexes.is_empty(),
        "indexes not led by tenant_id: {bad_indexes:?}"
    );

    let without_pk: Vec<String> = sqlx::query_scalar(
        "SELECT t.relname::text FROM pg_class t WHERE t.relname = ANY($1) \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = t.oid AND c.contype = 'p')",
    )
    .bind(&tables)
    .fetch_all(&mut admin)
    .await
    .expect("catalog");
    assert!(
        without_pk.is_empty(),
        "tenant tables without a primary key: {without_pk:?}"
    );

    // A foreign key between tenant tables must carry tenant_id first, so a row can only ever
    // point at a row of its own tenant.
    let bad_fks: Vec<String> = sqlx::query_scalar(
        "SELECT c.conname::text FROM pg_constraint c \
         JOIN pg_class src ON src.oid = c.conrelid JOIN pg_class dst ON dst.oid = c.confrelid \
         JOIN pg_attribute a ON a.attrelid = src.oid AND a.attnum = c.conkey[1] \
         WHERE c.contype = 'f' AND src.relname = ANY($1) AND dst.relname = ANY($1) \
           AND a.attname <> 'tenant_id'",
    )
    .bind(&tables)
    .fetch_all(&mut admin)
    .await
    .expect("catalog");
    assert!(
        bad_fks.is_empty(),
        "tenant foreign keys not led by tenant_id: {bad_fks:?}"
    );
}

#[tokio::test]
async fn the_app_role_is_unprivileged_and_owns_nothing() {
    let db = TestDb::new().await.expect("db");
    let mut admin = db.admin().await.expect("admin");
    let (superuser, bypass, createrole, createdb): (bool, bool, bool, bool) = sqlx::query_as(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'kabinet_app'",
    )
    .fetch_one(&mut admin)
    .await
    .expect("role");
    assert!(!superuser && !bypass && !createrole && !createdb);
    let owned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE r.rolname = 'kabinet_app' AND n.nspname = 'public'",
    )
    .fetch_one(&mut admin)
    .await
    .expect("catalog");
    assert_eq!(owned, 0);
}
