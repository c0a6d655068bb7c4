//! The operator's platform view: request and error counts per ISP reach it from every node,
//! workers' passes show their lag, and each ISP's data size counts only its own rows.

use chrono::Utc;
use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_tenancy::metrics::{Worker, record_worker_pass};
use kabinet_tests::{Client, PASSWORD, TestApp, assert_problem, json_body};
use reqwest::StatusCode;
use serde_json::Value;

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

async fn tenant_id(app: &TestApp, slug: &str) -> TenantId {
    let mut admin = app.db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_one(&mut admin)
            .await
            .expect("tenant"),
    )
}

fn tenant_row<'a>(view: &'a Value, slug: &str) -> &'a Value {
    view["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .find(|t| t["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} in the view"))
}

#[tokio::test]
async fn requests_and_errors_from_two_nodes_add_up_per_isp() {
    let app = TestApp::spawn().await.expect("app");
    let second = app.second_node().await.expect("second node");
    let demo = app.client("demo.localhost");
    let north = second.client("northnet.localhost");
    for _ in 0..5 {
        assert_eq!(demo.get("/api/v1/site").await.status(), StatusCode::OK);
    }
    // Unauthenticated: 401s count as the client's errors, not the platform's.
    for _ in 0..3 {
        assert_eq!(
            north.get("/api/v1/me/tickets").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    app.state
        .request_meter
        .flush(&app.state.db)
        .await
        .expect("flush");
    second
        .state
        .request_meter
        .flush(&second.state.db)
        .await
        .expect("flush");

    let op = operator(&app).await;
    // Each node's background writer flushes too: whichever did, the counts land exactly once.
    let view = view_when(&op, |v| tenant_row(v, "demo")["requests"] == 5).await;
    let d = tenant_row(&view, "demo");
    assert_eq!(d["client_errors"], 0, "{d}");
    let n = tenant_row(&view, "northnet");
    assert_eq!(n["requests"], 3, "{n}");
    assert_eq!(n["client_errors"], 3);
    assert_eq!(n["server_errors"], 0);
    assert!(view["requests"].as_i64().expect("requests") >= 8, "{view}");
    assert_eq!(view["server_errors"], 0);
    assert_eq!(view["error_rate"], 0.0);
    assert!(!view["per_minute"].as_array().expect("minutes").is_empty());
    assert!(view["database_bytes"].as_i64().expect("bytes") > 0);

    // The next request adds to the same minute's row, once.
    assert_eq!(demo.get("/api/v1/site").await.status(), StatusCode::OK);
    app.state
        .request_meter
        .flush(&app.state.db)
        .await
        .expect("flush");
    let view = view_when(&op, |v| tenant_row(v, "demo")["requests"] != 5).await;
    assert_eq!(tenant_row(&view, "demo")["requests"], 6);
    assert_eq!(tenant_row(&view, "northnet")["requests"], 3);
}

/// The platform view once `ready` holds (the background writers flush every 10 s).
async fn view_when(op: &Client, ready: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..150 {
        let view = json_body(op.get("/api/v1/platform/metrics").await, StatusCode::OK).await;
        if ready(&view) {
            return view;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the platform view never got there");
}

#[tokio::test]
async fn only_operators_see_the_platform_view_and_the_window_is_bounded() {
    let app = TestApp::spawn().await.expect("app");
    let staff = app.staff("demo.localhost", "owner@demo.example").await;
    assert_problem(
        staff.get("/api/v1/platform/metrics").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let anonymous = app.client("admin.localhost");
    assert_eq!(
        anonymous.get("/api/v1/platform/metrics").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let op = operator(&app).await;
    for bad in ["0", "100000", "soon"] {
        assert_eq!(
            op.get(&format!("/api/v1/platform/metrics?minutes={bad}"))
                .await
                .status(),
            StatusCode::BAD_REQUEST,
            "minutes={bad}"
        );
    }
    assert_eq!(
        op.get("/api/v1/platform/metrics?minutes=1440")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn worker_passes_show_their_lag_and_failures() {
    let app = TestApp::spawn().await.expect("app");
    let op = operator(&app).await;
    let view = json_body(op.get("/api/v1/platform/metrics").await, StatusCode::OK).await;
    assert_eq!(view["workers"], serde_json::json!([]));

    let started = Utc::now() - chrono::Duration::seconds(3);
    record_worker_pass(&app.state.db, Worker::Mail, started, 0).await;
    record_worker_pass(&app.state.db, Worker::Billing, started, 2).await;
    // A second pass on the same node replaces the first: one row per worker and node.
    record_worker_pass(&app.state.db, Worker::Mail, Utc::now(), 0).await;
    let view = json_body(op.get("/api/v1/platform/metrics").await, StatusCode::OK).await;
    let workers = view["workers"].as_array().expect("workers");
    assert_eq!(workers.len(), 2, "{view}");
    let billing = workers
        .iter()
        .find(|w| w["worker"] == "billing")
        .expect("billing");
    assert_eq!(billing["failures"], 2);
    assert_eq!(billing["nodes"], 1);
    assert!(billing["lag_seconds"].as_i64().expect("lag") >= 0);
    let mut admin = app.db.admin().await.expect("admin");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM worker_passes")
        .fetch_one(&mut admin)
        .await
        .expect("count");
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn data_size_and_mail_queue_are_measured_per_isp() {
    let app = TestApp::spawn().await.expect("app");
    let demo = tenant_id(&app, "demo").await;
    let north = tenant_id(&app, "northnet").await;
    let measure = |tenant: TenantId| {
        let db = app.state.db.clone();
        async move {
            let mut tx = db.tenant_tx(tenant).await.expect("tx");
            kabinet_tenancy::record_usage(&mut tx).await.expect("usage");
            tx.commit().await.expect("commit");
        }
    };
    measure(demo).await;
    measure(north).await;
    let op = operator(&app).await;
    let view = json_body(op.get("/api/v1/platform/metrics").await, StatusCode::OK).await;
    let demo_before = tenant_row(&view, "demo")["data_bytes"]
        .as_i64()
        .expect("bytes");
    let north_before = tenant_row(&view, "northnet")["data_bytes"]
        .as_i64()
        .expect("bytes");
    assert!(demo_before > 0 && north_before > 0, "{view}");
    assert_eq!(tenant_row(&view, "demo")["mail_due"], 0);

    // Demo grows by a batch of letters waiting to be sent (1,280 random characters each, which
    // TOAST cannot compress much); NorthNet does not.
    let mut tx = app.state.db.tenant_tx(demo).await.expect("tx");
    sqlx::query(
        "INSERT INTO mail_outbox (tenant_id, id, to_addr, subject, text_body, created_at) \
         SELECT $1, gen_random_uuid(), 'someone@example.com', 'Subject ' || g, \
                (SELECT string_agg(md5(random()::text || g || i), '') FROM generate_series(1, 40) i), \
                now() - interval '5 minutes' \
         FROM generate_series(1, 50) g",
    )
    .bind(demo.as_uuid())
    .execute(tx.conn())
    .await
    .expect("mail");
    tx.commit().await.expect("commit");
    measure(demo).await;
    measure(north).await;
    let view = json_body(op.get("/api/v1/platform/metrics").await, StatusCode::OK).await;
    let d = tenant_row(&view, "demo");
    assert!(
        d["data_bytes"].as_i64().expect("bytes") >= demo_before + 50 * 1000,
        "{d}"
    );
    assert_eq!(d["mail_due"], 50);
    assert!(d["oldest_mail_due_at"].is_string());
    assert_eq!(
        tenant_row(&view, "northnet")["data_bytes"]
            .as_i64()
            .expect("bytes"),
        north_before,
        "another ISP's rows never count"
    );
}
