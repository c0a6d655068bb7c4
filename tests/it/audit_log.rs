//! The audit log: a hash chain per ISP that detects an altered or removed entry, stays one
//! chain under concurrent writers on two nodes, refuses changes from the app and owner roles,
//! and is searchable and exportable by the owner only, each ISP seeing its own.

use kabinet_db::sqlx;
use kabinet_tests::{Client, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

const DEMO: &str = "demo.localhost";

async fn create_role(owner: &Client, name: &str, permissions: &[&str]) -> String {
    let created = json_body(
        owner
            .post(
                "/api/v1/console/roles",
                &json!({"name": name, "description": "test", "permissions": permissions}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    created["id"].as_str().expect("id").to_owned()
}

async fn verification(owner: &Client) -> Value {
    json_body(
        owner.get("/api/v1/console/audit/verification").await,
        StatusCode::OK,
    )
    .await
}

async fn demo_tenant(app: &TestApp) -> uuid::Uuid {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
        .fetch_one(&mut admin)
        .await
        .expect("tenant")
}

#[tokio::test]
async fn the_chain_verifies_and_exposes_an_altered_or_removed_entry() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, "owner@demo.example").await;
    let role = create_role(&owner, "Chain one", &["tickets.read"]).await;
    for (i, permissions) in [
        ["tickets.read", "tickets.reply"],
        ["tickets.read", "news.manage"],
    ]
    .iter()
    .enumerate()
    {
        json_body(
            owner
                .put(
                    &format!("/api/v1/console/roles/{role}"),
                    &json!({"name": format!("Chain {i}"), "permissions": permissions}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    }
    create_role(&owner, "Chain two", &["billing.read"]).await;

    let intact = verification(&owner).await;
    assert_eq!(intact["state"], "intact", "{intact}");
    let entries = intact["entries"].as_i64().expect("entries");
    assert!(entries >= 4, "{intact}");
    assert_eq!(intact["head_seq"], entries);
    assert_eq!(intact["head_hash"].as_str().expect("hash").len(), 64);

    // A superuser rewrites one entry's details: that very entry stops matching its hash.
    let tenant = demo_tenant(&app).await;
    let mut admin = app.db.admin().await.expect("admin");
    let original: Value =
        sqlx::query_scalar("SELECT details FROM audit_log WHERE tenant_id = $1 AND seq = 2")
            .bind(tenant)
            .fetch_one(&mut admin)
            .await
            .expect("entry");
    sqlx::query("UPDATE audit_log SET details = '{\"after\": \"nothing to see\"}' WHERE tenant_id = $1 AND seq = 2")
        .bind(tenant)
        .execute(&mut admin)
        .await
        .expect("tamper");
    let tampered = verification(&owner).await;
    assert_eq!(tampered["state"], "broken", "{tampered}");
    assert_eq!(tampered["broken_seq"], 2);
    assert_eq!(tampered["broken_reason"], "hash_mismatch");

    // Recomputing that entry's hash in the database does not hide it: the next link breaks.
    sqlx::query(
        "UPDATE audit_log SET hash = audit_entry_hash(tenant_id, seq, prev_hash, at, staff_id, \
           operator_id, action, target, details, client_addr) WHERE tenant_id = $1 AND seq = 2",
    )
    .bind(tenant)
    .execute(&mut admin)
    .await
    .expect("rehash");
    let relinked = verification(&owner).await;
    assert_eq!(relinked["broken_seq"], 3, "{relinked}");
    assert_eq!(relinked["broken_reason"], "link_mismatch");

    // Put back exactly as written: the chain verifies again (the check is not sticky).
    sqlx::query(
        "UPDATE audit_log SET details = $2, hash = audit_entry_hash(tenant_id, seq, prev_hash, at, \
           staff_id, operator_id, action, target, $2, client_addr) WHERE tenant_id = $1 AND seq = 2",
    )
    .bind(tenant)
    .bind(&original)
    .execute(&mut admin)
    .await
    .expect("restore");
    assert_eq!(verification(&owner).await["state"], "intact");

    // A removed entry in the middle is a gap; removing the newest is caught by the head.
    sqlx::query("DELETE FROM audit_log WHERE tenant_id = $1 AND seq = 3")
        .bind(tenant)
        .execute(&mut admin)
        .await
        .expect("delete");
    let gap = verification(&owner).await;
    assert_eq!(gap["state"], "broken");
    assert_eq!(gap["broken_seq"], 3);
    assert_eq!(gap["broken_reason"], "gap");

    let app2 = TestApp::spawn().await.expect("app");
    let owner2 = app2.staff(DEMO, "owner@demo.example").await;
    create_role(&owner2, "Newest", &["tickets.read"]).await;
    create_role(&owner2, "Newest two", &["tickets.read"]).await;
    let tenant2 = demo_tenant(&app2).await;
    let mut admin2 = app2.db.admin().await.expect("admin");
    sqlx::query(
        "DELETE FROM audit_log WHERE tenant_id = $1 AND seq = (SELECT max(seq) FROM audit_log WHERE tenant_id = $1)",
    )
    .bind(tenant2)
    .execute(&mut admin2)
    .await
    .expect("delete newest");
    let truncated = verification(&owner2).await;
    assert_eq!(truncated["state"], "broken", "{truncated}");
    assert_eq!(truncated["broken_reason"], "head_mismatch");
}

async fn check_checkpoint(owner: &Client, seq: &Value, hash: &str) -> Value {
    json_body(
        owner
            .get(&format!(
                "/api/v1/console/audit/verification?checkpoint_seq={seq}&checkpoint_hash={hash}"
            ))
            .await,
        StatusCode::OK,
    )
    .await
}

/// A superuser who rewrites the whole chain from an altered entry on (every hash and link
/// recomputed, the head moved) gets a chain that verifies; a checkpoint noted down before, out
/// of the database's reach, exposes it.
#[tokio::test]
async fn a_checkpoint_kept_outside_exposes_a_chain_rewritten_to_verify() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, "owner@demo.example").await;
    for name in ["Anchor one", "Anchor two", "Anchor three"] {
        create_role(&owner, name, &["tickets.read"]).await;
    }
    let noted = verification(&owner).await;
    let (seq, hash) = (
        noted["head_seq"].clone(),
        noted["head_hash"].as_str().expect("hash").to_owned(),
    );
    assert!(noted.get("checkpoint").is_none(), "{noted}");
    assert_eq!(
        check_checkpoint(&owner, &seq, &hash).await["checkpoint"],
        "matches"
    );
    // Upper case is the same hash; newer entries do not disturb an older checkpoint.
    create_role(&owner, "Anchor four", &["tickets.read"]).await;
    let later = check_checkpoint(&owner, &seq, &hash.to_uppercase()).await;
    assert_eq!(later["checkpoint"], "matches", "{later}");
    let other = format!("{}0", &hash[..63]);
    let other = if other == hash {
        format!("{}1", &hash[..63])
    } else {
        other
    };
    assert_eq!(
        check_checkpoint(&owner, &seq, &other).await["checkpoint"],
        "differs"
    );
    assert_eq!(
        check_checkpoint(&owner, &json!(1_000_000), &hash).await["checkpoint"],
        "missing"
    );
    for bad in [
        format!("checkpoint_seq={seq}"),
        format!("checkpoint_hash={hash}"),
        format!("checkpoint_seq={seq}&checkpoint_hash=xyz"),
        format!("checkpoint_seq={seq}&checkpoint_hash={}", "g".repeat(64)),
    ] {
        assert_problem(
            owner
                .get(&format!("/api/v1/console/audit/verification?{bad}"))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_checkpoint",
        )
        .await;
    }

    // The rewrite: entry 1 altered, then every later entry relinked and rehashed in order,
    // and the head moved to the new last hash.
    let tenant = demo_tenant(&app).await;
    let mut admin = app.db.admin().await.expect("admin");
    let last: i64 = sqlx::query_scalar("SELECT max(seq) FROM audit_log WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(&mut admin)
        .await
        .expect("last");
    sqlx::query(
        "UPDATE audit_log SET details = '{\"after\": \"nothing to see\"}', \
           hash = audit_entry_hash(tenant_id, seq, prev_hash, at, staff_id, operator_id, action, \
                                   target, '{\"after\": \"nothing to see\"}', client_addr) \
         WHERE tenant_id = $1 AND seq = 1",
    )
    .bind(tenant)
    .execute(&mut admin)
    .await
    .expect("alter");
    for n in 2..=last {
        sqlx::query(
            "UPDATE audit_log e SET prev_hash = p.hash, \
               hash = audit_entry_hash(e.tenant_id, e.seq, p.hash, e.at, e.staff_id, e.operator_id, \
                                       e.action, e.target, e.details, e.client_addr) \
             FROM audit_log p WHERE e.tenant_id = $1 AND e.seq = $2 \
               AND p.tenant_id = $1 AND p.seq = $2 - 1",
        )
        .bind(tenant)
        .bind(n)
        .execute(&mut admin)
        .await
        .expect("relink");
    }
    sqlx::query(
        "UPDATE audit_chain_heads h SET hash = e.hash FROM audit_log e \
         WHERE h.tenant_id = $1 AND e.tenant_id = $1 AND e.seq = h.seq",
    )
    .bind(tenant)
    .execute(&mut admin)
    .await
    .expect("move head");

    let rewritten = check_checkpoint(&owner, &seq, &hash).await;
    assert_eq!(rewritten["state"], "intact", "{rewritten}");
    assert_eq!(rewritten["checkpoint"], "differs", "{rewritten}");
}

#[tokio::test]
async fn neither_the_app_nor_the_owning_role_can_change_the_log() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, "owner@demo.example").await;
    create_role(&owner, "Immutable", &["tickets.read"]).await;
    let tenant = kabinet_core::TenantId(demo_tenant(&app).await);

    for statement in [
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE audit_chain_heads SET seq = 0",
    ] {
        let mut tx = app.db.db.tenant_tx(tenant).await.expect("tx");
        let err = sqlx::query(statement)
            .execute(tx.conn())
            .await
            .expect_err(statement);
        assert!(
            err.to_string().contains("permission denied"),
            "{statement}: {err}"
        );
    }

    // The migrating role owns the table, and still cannot rewrite history.
    use sqlx::Connection;
    let mut owner_conn = sqlx::PgConnection::connect(&app.db.owner_url)
        .await
        .expect("owner");
    for statement in ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"] {
        let mut tx = owner_conn.begin().await.expect("tx");
        sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await
            .expect("scope");
        let err = sqlx::query(statement)
            .execute(&mut *tx)
            .await
            .expect_err(statement);
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
    // Deleting an ISP still takes its log along.
    let scratch = kabinet_core::TenantId(uuid::Uuid::now_v7());
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query(
        "INSERT INTO tenants (id, slug, display_name, saas_plan, currency) \
         VALUES ($1, 'scratch', 'Scratch', 'growth', 'RUB')",
    )
    .bind(scratch.as_uuid())
    .execute(&mut admin)
    .await
    .expect("scratch ISP");
    let mut tx = app.db.db.tenant_tx(scratch).await.expect("tx");
    kabinet_access::audit::record(
        &mut tx,
        kabinet_access::AuditEntry {
            staff: None,
            action: "test.entry",
            target: "test:1".into(),
            details: json!({}),
        },
        &kabinet_access::ClientInfo::default(),
    )
    .await
    .expect("entry");
    tx.commit().await.expect("commit");
    let deleted = sqlx::query("DELETE FROM tenants WHERE slug = 'scratch'")
        .execute(&mut owner_conn)
        .await
        .expect("an ISP can be deleted with its audit log");
    assert_eq!(deleted.rows_affected(), 1);
    assert_eq!(verification(&owner).await["state"], "intact");
}

#[tokio::test]
async fn concurrent_writers_on_two_nodes_build_one_chain() {
    let app = TestApp::spawn().await.expect("app");
    let node_b = app.second_node().await.expect("node b");
    let on_b = node_b.staff(DEMO, "owner@demo.example").await;
    let mut runs = tokio::task::JoinSet::new();
    for i in 0..12 {
        let node = if i % 2 == 0 { &app } else { &node_b };
        let client = node.staff(DEMO, "owner@demo.example").await;
        runs.spawn(async move {
            json_body(
                client
                    .post(
                        "/api/v1/console/roles",
                        &json!({"name": format!("Parallel {i}"), "permissions": ["tickets.read"]}),
                    )
                    .await,
                StatusCode::CREATED,
            )
            .await
        });
    }
    runs.join_all().await;
    let status = verification(&on_b).await;
    assert_eq!(status["state"], "intact", "{status}");
    let tenant = demo_tenant(&app).await;
    let mut admin = app.db.admin().await.expect("admin");
    let (count, max): (i64, i64) =
        sqlx::query_as("SELECT count(*), max(seq) FROM audit_log WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(&mut admin)
            .await
            .expect("counts");
    assert!(count >= 12);
    assert_eq!(count, max, "seq is gapless");
}

#[tokio::test]
async fn the_owner_searches_pages_and_exports_only_their_isps_log() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, "owner@demo.example").await;
    let role = create_role(&owner, "Searchable", &["tickets.read"]).await;
    json_body(
        owner
            .put(
                &format!("/api/v1/console/roles/{role}"),
                &json!({"name": "Searchable, renamed", "permissions": ["tickets.read", "tickets.reply"]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    create_role(&owner, "Another", &["billing.read"]).await;

    let page = json_body(
        owner.get("/api/v1/console/audit?action=role&limit=2").await,
        StatusCode::OK,
    )
    .await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "role.create");
    assert_eq!(items[1]["action"], "role.update");
    assert_eq!(items[0]["actor"]["kind"], "staff");
    assert_eq!(items[0]["actor"]["name"], "Ольга Владимирова");
    assert_eq!(items[0]["client_addr"], "127.0.0.1");
    // Before and after of the update.
    assert_eq!(items[1]["details"]["before"]["name"], "Searchable");
    assert_eq!(items[1]["details"]["after"]["name"], "Searchable, renamed");
    assert_eq!(
        items[1]["details"]["after"]["permissions"],
        json!(["tickets.read", "tickets.reply"])
    );
    let next = page["next_before"].as_i64().expect("another page");
    let older = json_body(
        owner
            .get(&format!(
                "/api/v1/console/audit?action=role&limit=2&before={next}"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    let older = older["items"].as_array().expect("items");
    assert_eq!(older.len(), 1);
    assert_eq!(older[0]["action"], "role.create");
    assert!(older[0]["seq"].as_i64() < items[1]["seq"].as_i64());

    // Target text, actor text and a date range that excludes everything.
    let by_target = json_body(
        owner
            .get(&format!("/api/v1/console/audit?target=ROLE:{role}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_target["items"].as_array().expect("items").len(), 2);
    let nobody = json_body(
        owner.get("/api/v1/console/audit?actor=%25nobody%25").await,
        StatusCode::OK,
    )
    .await;
    assert!(nobody["items"].as_array().expect("items").is_empty());
    let by_actor = json_body(
        owner.get("/api/v1/console/audit?actor=OWNER@demo").await,
        StatusCode::OK,
    )
    .await;
    assert!(by_actor["items"].as_array().expect("items").len() >= 3);
    let future = json_body(
        owner
            .get("/api/v1/console/audit?from=2100-01-01T00:00:00Z")
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(future["items"].as_array().expect("items").is_empty());

    let csv = owner.get("/api/v1/console/audit.csv?action=role").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    let text = csv.text().await.expect("body");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("seq,at,actor_kind"));
    assert_eq!(lines.len(), 4, "{text}");
    assert!(text.contains("\"Searchable, renamed\"") || text.contains("Searchable, renamed"));

    // Only the owner holds audit.read by default; northnet's owner sees none of demo's log.
    let viewer = app.staff(DEMO, "viewer@demo.example").await;
    assert_problem(
        viewer.get("/api/v1/console/audit").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let agent = app.staff(DEMO, "agent@demo.example").await;
    assert_problem(
        agent.get("/api/v1/console/audit.csv").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let other = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    let theirs = json_body(
        other.get("/api/v1/console/audit?action=role").await,
        StatusCode::OK,
    )
    .await;
    assert!(theirs["items"].as_array().expect("items").is_empty());
    assert_problem(
        owner.get("/api/v1/console/audit?before=0").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
}
