//! The end of a tenant's life: its configuration exported as a manifest (round trip), a full-data
//! archive with each tenant table's rows of that tenant only and its files, and deletion after a
//! grace period — refused without a fresh export, cancellable, then carried out by the worker
//! (idempotent, one node at a time) leaving a tombstone, a reserved slug and the other tenant intact.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use chrono::{Duration, Utc};
use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_provisioning::{archive, deletion, export, parse_manifest};
use kabinet_tests::{Client, PASSWORD, TestApp, TestDb, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::isolation::seed_both_tenants;

const REASON: &str = "Договор расторгнут, клиент просил удалить данные";

async fn tenant_id(db: &TestDb, slug: &str) -> TenantId {
    let mut admin = db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_one(&mut admin)
            .await
            .expect("tenant"),
    )
}

async fn operator(app: &TestApp) -> Client {
    let mut op = app.client("admin.localhost");
    json_body(
        op.login_operator("operator@kabinet.example", PASSWORD)
            .await,
        StatusCode::OK,
    )
    .await;
    op
}

/// Every table with a tenant_id column (tenant tables and the platform tables about a tenant).
async fn tables_with_tenant_id(admin: &mut sqlx::PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
           AND c.relname NOT IN ('tenant_exports', 'tenant_deletions') ORDER BY 1",
    )
    .fetch_all(admin)
    .await
    .expect("catalog")
}

/// Rows per table for `tenant`, seen as the superuser (behind row-level security).
async fn counts(db: &TestDb, tenant: TenantId) -> BTreeMap<String, i64> {
    let mut admin = db.admin().await.expect("admin");
    let mut out = BTreeMap::new();
    for table in tables_with_tenant_id(&mut admin).await {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM \"{table}\" WHERE tenant_id = $1"
        ))
        .bind(tenant.as_uuid())
        .fetch_one(&mut admin)
        .await
        .expect("count");
        out.insert(table, n);
    }
    out
}

/// Requests an export as the operator and has the worker build it.
async fn export_now(app: &TestApp, op: &Client, slug: &str) -> Value {
    let queued = json_body(
        op.post(
            &format!("/api/v1/platform/tenants/{slug}/exports"),
            &json!({}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let store = app.state.config.attachments.objects();
    // The node's own worker may have taken it first; either way it finishes.
    for _ in 0..100 {
        archive::run_pending_exports(&app.db.db, &store)
            .await
            .expect("export pass");
        let list = json_body(
            op.get(&format!("/api/v1/platform/tenants/{slug}/exports"))
                .await,
            StatusCode::OK,
        )
        .await;
        let current = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|e| e["id"] == queued["id"])
            .cloned()
            .expect("listed");
        match current["state"].as_str() {
            Some("done") => return current,
            Some("failed") => panic!("export failed: {current}"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    panic!("the export never finished");
}

/// The archive's files: path → bytes.
async fn download(op: &Client, export: &Value) -> BTreeMap<String, Vec<u8>> {
    let resp = op
        .get(&format!(
            "/api/v1/platform/exports/{}/archive",
            export["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"].to_str().expect("type"),
        "application/gzip"
    );
    let bytes = resp.bytes().await.expect("body");
    assert_eq!(Some(bytes.len() as u64), export["bytes"].as_u64());
    let mut files = BTreeMap::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    for entry in tar.entries().expect("tar") {
        let mut entry = entry.expect("entry");
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .expect("path")
            .to_string_lossy()
            .trim_start_matches("./")
            .to_owned();
        let mut body = Vec::new();
        entry.read_to_end(&mut body).expect("read");
        files.insert(path, body);
    }
    files
}

#[tokio::test]
async fn the_manifest_round_trips_through_a_fresh_database() {
    let first = TestDb::new().await.expect("db");
    first.apply_demo_tenants().await.expect("demo");
    let demo = tenant_id(&first, "demo").await;
    // Ticket categories made in the console: two of the ISP's own (one switched off), a
    // renamed built-in, and a manifest article filed under a custom category.
    {
        use kabinet_ticketing::CategoryKind;
        use kabinet_ticketing::categories::{self, CategoryUpdate, NewCategory};
        let mut tx = first.db.tenant_tx(demo).await.expect("tx");
        for (code, kind, ru) in [
            ("dacha_link", CategoryKind::Connectivity, "Связь на даче"),
            ("tv_box", CategoryKind::Equipment, "ТВ-приставка"),
        ] {
            categories::create(
                &mut tx,
                &NewCategory {
                    code: code.into(),
                    kind,
                    name_ru: Some(ru.into()),
                    name_en: None,
                },
            )
            .await
            .expect("category");
        }
        let off = CategoryUpdate {
            name_ru: Some("ТВ-приставка".into()),
            name_en: Some("TV box".into()),
            active: false,
        };
        categories::update(&mut tx, "tv_box", &off)
            .await
            .expect("off");
        let renamed = CategoryUpdate {
            name_ru: Some("Прочее".into()),
            name_en: None,
            active: true,
        };
        categories::update(&mut tx, "other", &renamed)
            .await
            .expect("rename");
        categories::place(&mut tx, "dacha_link", 3)
            .await
            .expect("move");
        let filed = sqlx::query(
            "UPDATE kb_articles SET category = 'dacha_link' WHERE tenant_id = $1 AND slug = \
             (SELECT min(slug) FROM kb_articles WHERE tenant_id = $1 AND slug IS NOT NULL)",
        )
        .bind(demo.as_uuid())
        .execute(tx.conn())
        .await
        .expect("article")
        .rows_affected();
        assert_eq!(filed, 1, "the demo has manifest articles");
        tx.commit().await.expect("commit");
    }
    let exported = export::export_manifest(&first.db, demo)
        .await
        .expect("export");
    let categories: Vec<(&str, bool)> = exported
        .manifest
        .ticket_categories
        .iter()
        .map(|c| (c.code.as_str(), c.active))
        .collect();
    // Untouched built-ins are what every ISP starts with: not written.
    assert_eq!(
        categories,
        [("dacha_link", true), ("other", true), ("tv_box", false)],
        "{}",
        exported.toml
    );
    assert!(exported.toml.contains("[[ticket_categories]]"));
    assert!(
        exported.toml.contains("slug = \"demo\""),
        "{}",
        exported.toml
    );
    assert!(!exported.toml.contains("initial_password"));
    assert!(
        exported
            .toml
            .contains("logo = \"data:image/svg+xml;base64,")
    );

    // The export is a manifest: it parses, and applying it where it came from changes nothing.
    let parsed = parse_manifest(Path::new("exported/demo.toml"), &exported.toml)
        .unwrap_or_else(|e| panic!("{e}\n{}", exported.toml));
    let report = kabinet_provisioning::apply(&first.db, &parsed, "localhost")
        .await
        .expect("apply to the original");
    assert!(report.changes.is_empty(), "{:?}", report.changes);

    // Applied to an empty database, it gives the same configuration back.
    let second = TestDb::new().await.expect("db");
    let report = kabinet_provisioning::apply(&second.db, &parsed, "localhost")
        .await
        .expect("apply to a fresh database");
    assert!(report.created);
    let again = export::export_manifest(&second.db, tenant_id(&second, "demo").await)
        .await
        .expect("export again");
    assert_eq!(again.toml, exported.toml);
}

#[tokio::test]
async fn the_owner_downloads_the_manifest_from_the_console() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let resp = owner.get("/api/v1/console/settings/manifest").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .expect("disposition")
            .contains("demo.toml")
    );
    let body = resp.text().await.expect("body");
    assert!(
        body.contains("[[tariffs]]") && body.contains("home-100"),
        "{body}"
    );

    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    assert_problem(
        agent.get("/api/v1/console/settings/manifest").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn an_export_archive_holds_each_tenant_table_of_that_tenant_only() {
    let (app, _stripe) = TestApp::spawn_with_stripe().await.expect("app");
    seed_both_tenants(&app).await;
    let demo = tenant_id(&app.db, "demo").await;
    let northnet = tenant_id(&app.db, "northnet").await;
    let op = operator(&app).await;

    let export = export_now(&app, &op, "demo").await;
    let files = download(&op, &export).await;
    let meta: Value = serde_json::from_slice(&files["export.json"]).expect("export.json");
    assert_eq!(meta["slug"], "demo");

    let expected = counts(&app.db, demo).await;
    for (table, rows) in &expected {
        let csv = files
            .get(&format!("tables/{table}.csv"))
            .unwrap_or_else(|| panic!("{table} is missing from the archive"));
        assert_eq!(
            meta["tables"][table].as_i64(),
            Some(*rows),
            "{table}: rows in the archive"
        );
        let text = String::from_utf8_lossy(csv);
        assert!(
            !text.contains(&northnet.to_string()),
            "{table} leaks northnet's rows"
        );
        if *rows > 0 {
            assert!(text.contains(&demo.to_string()), "{table}");
        }
    }
    assert!(String::from_utf8_lossy(&files["tables/tenants.csv"]).contains("Демо Телеком"));
    // The seed attached a file on each ISP: demo's object is in, northnet's is not.
    let objects: Vec<&String> = files.keys().filter(|k| k.starts_with("objects/")).collect();
    assert!(!objects.is_empty(), "{:?}", files.keys());
    assert!(
        objects
            .iter()
            .all(|k| k.starts_with(&format!("objects/{demo}/")))
    );
    assert_eq!(meta["objects"].as_u64(), Some(objects.len() as u64));

    // Requesting an export of an unknown ISP is a 404; only operators may ask.
    assert_problem(
        op.post("/api/v1/platform/tenants/nosuch/exports", &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let resp = owner.get("/api/v1/platform/tenants/demo/exports").await;
    assert!(resp.status().is_client_error());
}

#[tokio::test]
async fn a_deletion_needs_a_fresh_export_and_can_be_cancelled() {
    let app = TestApp::spawn().await.expect("app");
    let op = operator(&app).await;
    let demo = tenant_id(&app.db, "demo").await;
    let path = "/api/v1/platform/tenants/demo/deletion";

    assert_problem(
        op.post(path, &json!({"reason": REASON})).await,
        StatusCode::CONFLICT,
        "export_required",
    )
    .await;
    let status = json_body(op.get(path).await, StatusCode::OK).await;
    assert_eq!(status["can_schedule"], false);

    let export = export_now(&app, &op, "demo").await;
    let status = json_body(op.get(path).await, StatusCode::OK).await;
    assert_eq!(status["can_schedule"], true);
    assert_problem(
        op.post(path, &json!({"reason": "short"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;

    let scheduled = json_body(
        op.post(path, &json!({"reason": REASON, "grace_days": 30}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(scheduled["state"], "scheduled");
    assert_eq!(scheduled["export_id"], export["id"]);
    let due: chrono::DateTime<Utc> = scheduled["due_at"]
        .as_str()
        .expect("due")
        .parse()
        .expect("time");
    assert!((due - Utc::now() - Duration::days(30)).num_minutes().abs() < 5);
    assert_problem(
        op.post(path, &json!({"reason": REASON})).await,
        StatusCode::CONFLICT,
        "deletion_already_scheduled",
    )
    .await;
    // Resuming would quietly undo the deletion's suspension: refused until it is cancelled.
    assert_problem(
        op.post("/api/v1/platform/tenants/demo/resume", &json!({}))
            .await,
        StatusCode::CONFLICT,
        "deletion_scheduled",
    )
    .await;

    // Suspended at once, the owners told, the operator's action in the ISP's audit chain.
    let mut admin = app.db.admin().await.expect("admin");
    let status: String = sqlx::query_scalar("SELECT status FROM tenants WHERE id = $1")
        .bind(demo.as_uuid())
        .fetch_one(&mut admin)
        .await
        .expect("status");
    assert_eq!(status, "suspended");
    let letters: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM mail_outbox WHERE tenant_id = $1 AND to_addr = 'owner@demo.example' \
           AND idempotency_key LIKE 'tenant-deletion:%:scheduled:%'",
    )
    .bind(demo.as_uuid())
    .fetch_one(&mut admin)
    .await
    .expect("outbox");
    assert_eq!(letters, 1);

    let listed = json_body(
        op.get("/api/v1/platform/tenant-deletions").await,
        StatusCode::OK,
    )
    .await;
    assert!(
        listed["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|d| d["id"] == scheduled["id"])
    );

    let cancelled = json_body(op.delete(path).await, StatusCode::OK).await;
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["cancelled_by"], "Platform Operator");
    let status: String = sqlx::query_scalar("SELECT status FROM tenants WHERE id = $1")
        .bind(demo.as_uuid())
        .fetch_one(&mut admin)
        .await
        .expect("status");
    assert_eq!(status, "active");
    let resumed = json_body(
        op.post("/api/v1/platform/tenants/demo/resume", &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(resumed["status"], "active");
    assert_problem(
        op.delete(path).await,
        StatusCode::CONFLICT,
        "deletion_not_scheduled",
    )
    .await;
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE tenant_id = $1 AND action LIKE 'tenant.deletion%' ORDER BY seq",
    )
    .bind(demo.as_uuid())
    .fetch_all(&mut admin)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        ["tenant.deletion_scheduled", "tenant.deletion_cancelled"]
    );

    // Cancelling changed nothing for good: the worker, even far in the future, deletes nothing.
    let store = app.state.config.attachments.objects();
    let deleted = deletion::run_due_deletions(&app.db.db, &store, Utc::now() + Duration::days(400))
        .await
        .expect("worker");
    assert!(deleted.is_empty());
}

#[tokio::test]
async fn after_the_grace_period_the_worker_deletes_that_tenant_and_nothing_else() {
    let (app, _stripe) = TestApp::spawn_with_stripe().await.expect("app");
    seed_both_tenants(&app).await;
    let op = operator(&app).await;
    let demo = tenant_id(&app.db, "demo").await;
    let northnet = tenant_id(&app.db, "northnet").await;
    let store = app.state.config.attachments.objects();

    let export = export_now(&app, &op, "demo").await;
    json_body(
        op.post(
            "/api/v1/platform/tenants/demo/deletion",
            &json!({"reason": REASON, "grace_days": 30}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let demo_before = counts(&app.db, demo).await;
    let northnet_before = counts(&app.db, northnet).await;
    assert!(demo_before.values().filter(|n| **n > 0).count() >= 10);

    // Within the grace period nothing happens.
    let now = Utc::now();
    assert!(
        deletion::run_due_deletions(&app.db.db, &store, now + Duration::days(29))
            .await
            .expect("worker")
            .is_empty()
    );
    assert_eq!(counts(&app.db, demo).await, demo_before);

    // After it, two nodes at once: one deletes, the other finds nothing to do.
    let later = now + Duration::days(31);
    let (a, b) = tokio::join!(
        deletion::run_due_deletions(&app.db.db, &store, later),
        deletion::run_due_deletions(&app.db.db, &store, later),
    );
    let deleted: Vec<_> = a
        .expect("node a")
        .into_iter()
        .chain(b.expect("node b"))
        .collect();
    assert_eq!(deleted.len(), 1);

    let demo_after = counts(&app.db, demo).await;
    assert!(
        demo_after.values().all(|n| *n == 0),
        "rows of the deleted tenant remain: {:?}",
        demo_after
            .iter()
            .filter(|(_, n)| **n > 0)
            .collect::<Vec<_>>()
    );
    assert_eq!(counts(&app.db, northnet).await, northnet_before);

    let mut admin = app.db.admin().await.expect("admin");
    let (tenants, hosts): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM tenants WHERE id = $1), \
                (SELECT count(*) FROM tenant_hosts WHERE tenant_id = $1)",
    )
    .bind(demo.as_uuid())
    .fetch_one(&mut admin)
    .await
    .expect("gone");
    assert_eq!((tenants, hosts), (0, 0));

    // The tombstone: who, when, why, after which export; the rows it removed.
    let tomb: (String, String, Uuid, String, Value, bool) = sqlx::query_as(
        "SELECT slug, reason, export_id, requested_by_name, deleted_rows, objects_purged_at IS NOT NULL \
         FROM tenant_deletions WHERE tenant_id = $1 AND state = 'deleted'",
    )
    .bind(demo.as_uuid())
    .fetch_one(&mut admin)
    .await
    .expect("tombstone");
    assert_eq!(tomb.0, "demo");
    assert_eq!(tomb.1, REASON);
    assert_eq!(tomb.2.to_string(), export["id"].as_str().expect("id"));
    assert_eq!(tomb.3, "Platform Operator");
    assert_eq!(tomb.4["subscribers"], demo_before["subscribers"]);
    assert!(tomb.5, "objects purged");

    // Its objects are gone, northnet's stay; the export archive is kept.
    use tokio_stream::StreamExt;
    let left: Vec<_> = store
        .list(Some(&object_store::path::Path::from(demo.to_string())))
        .collect()
        .await;
    assert!(left.is_empty());
    let theirs: Vec<_> = store
        .list(Some(&object_store::path::Path::from(northnet.to_string())))
        .collect()
        .await;
    assert!(!theirs.is_empty());
    let files = download(&op, &export).await;
    assert!(files.contains_key("tables/subscribers.csv"));

    // The slug stays reserved; the site is gone; running again changes nothing.
    assert_eq!(
        kabinet_provisioning::signup::slug_availability(&app.db.db, "demo")
            .await
            .expect("availability"),
        kabinet_provisioning::signup::SlugAvailability::Taken
    );
    let status = json_body(
        op.get("/api/v1/platform/tenants/demo/deletion").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(status["deletion"]["state"], "deleted");
    assert!(
        deletion::run_due_deletions(&app.db.db, &store, later + Duration::days(1))
            .await
            .expect("again")
            .is_empty()
    );
    assert_eq!(counts(&app.db, northnet).await, northnet_before);
}
