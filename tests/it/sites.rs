//! Host → site resolution through the gateway.

use std::time::Duration;

use kabinet_db::sqlx;
use kabinet_tests::{TestApp, assert_problem, json_body};
use reqwest::StatusCode;

#[tokio::test]
async fn each_isp_host_serves_its_own_branding_and_the_admin_host_the_platform() {
    let app = TestApp::spawn().await.expect("app");
    let demo = json_body(
        app.client("demo.localhost").get("/api/v1/site").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(demo["kind"], "tenant");
    assert_eq!(demo["branding"]["slug"], "demo");
    assert_eq!(demo["branding"]["default_locale"], "ru");
    let north = json_body(
        app.client("northnet.localhost").get("/api/v1/site").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(north["branding"]["name"], "NorthNet");
    assert_eq!(north["branding"]["primary_color"], "#0f766e");
    let platform = json_body(
        app.client("admin.localhost").get("/api/v1/site").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(platform["kind"], "platform");
    assert!(platform.get("branding").is_none());
}

#[tokio::test]
async fn unknown_and_malformed_hosts_get_problems_not_pages() {
    let app = TestApp::spawn().await.expect("app");
    assert_problem(
        app.client("nobody.localhost").get("/api/v1/site").await,
        StatusCode::NOT_FOUND,
        "unknown_host",
    )
    .await;
    assert_problem(
        app.client("nobody.localhost").get("/").await,
        StatusCode::NOT_FOUND,
        "unknown_host",
    )
    .await;
    assert_problem(
        app.client("demo.other-domain.test")
            .get("/api/v1/site")
            .await,
        StatusCode::NOT_FOUND,
        "unknown_host",
    )
    .await;
    let client = app.client("demo.localhost");
    let resp = client
        .raw()
        .get(client.url("/api/v1/site"))
        .header("host", "bad host!")
        .send()
        .await
        .expect("request");
    assert_problem(resp, StatusCode::BAD_REQUEST, "bad_host").await;
}

#[tokio::test]
async fn health_endpoints_answer_on_any_host() {
    let app = TestApp::spawn().await.expect("app");
    let client = app.client("whatever.example");
    json_body(client.get("/healthz").await, StatusCode::OK).await;
    let ready = json_body(client.get("/readyz").await, StatusCode::OK).await;
    assert_eq!(ready["status"], "ready");
}

#[tokio::test]
async fn a_verified_custom_domain_serves_its_isp_and_an_unverified_one_does_not() {
    let app = TestApp::spawn().await.expect("app");
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query(
        "INSERT INTO tenant_hosts (host, tenant_id, kind, verified_at) \
         SELECT 'my.demo-isp.example', id, 'custom', now() FROM tenants WHERE slug = 'demo' \
         UNION ALL SELECT 'pending.demo-isp.example', id, 'custom', NULL FROM tenants WHERE slug = 'demo'",
    )
    .execute(&mut admin)
    .await
    .expect("insert hosts");
    app.state.directory.invalidate_all();
    let site = json_body(
        app.client("my.demo-isp.example").get("/api/v1/site").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(site["branding"]["slug"], "demo");
    assert_problem(
        app.client("pending.demo-isp.example")
            .get("/api/v1/site")
            .await,
        StatusCode::NOT_FOUND,
        "unknown_host",
    )
    .await;
}

#[tokio::test]
async fn a_warm_host_cache_does_not_touch_the_database() {
    let app = TestApp::spawn().await.expect("app");
    let client = app.client("demo.localhost");
    json_body(client.get("/api/v1/site").await, StatusCode::OK).await;
    let loads = app.state.directory.loads();
    for _ in 0..20 {
        json_body(client.get("/api/v1/site").await, StatusCode::OK).await;
    }
    assert_eq!(app.state.directory.loads(), loads);
}

/// A suspension made anywhere reaches every node through LISTEN/NOTIFY, not after a TTL.
#[tokio::test]
async fn suspending_a_tenant_reaches_every_node_and_shows_a_clear_page() {
    let app = TestApp::spawn().await.expect("app");
    let other = app.second_node().await.expect("second node");
    for node in [&app, &other] {
        json_body(
            node.client("demo.localhost").get("/api/v1/site").await,
            StatusCode::OK,
        )
        .await;
    }
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE tenants SET status = 'suspended' WHERE slug = 'demo'")
        .execute(&mut admin)
        .await
        .expect("suspend");

    for node in [&app, &other] {
        let client = node.client("demo.localhost");
        let mut status = StatusCode::OK;
        for _ in 0..50 {
            status = client.get("/api/v1/site").await.status();
            if status == StatusCode::FORBIDDEN {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "node did not learn of the suspension"
        );
        assert_problem(
            client.get("/api/v1/site").await,
            StatusCode::FORBIDDEN,
            "tenant_suspended",
        )
        .await;
        let page = client
            .raw()
            .get(client.url("/"))
            .header("accept", "text/html")
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), StatusCode::FORBIDDEN);
        let html = page.text().await.expect("html");
        assert!(
            html.contains("temporarily unavailable") && html.contains("Демо Телеком"),
            "{html}"
        );
    }
    // The other ISP is untouched.
    json_body(
        app.client("northnet.localhost").get("/api/v1/site").await,
        StatusCode::OK,
    )
    .await;
}

/// The web app: hashed assets cached for good and never replaced by HTML; the SPA revalidated.
#[tokio::test]
async fn the_web_app_is_served_with_cache_rules_and_head_support() {
    let dist = std::env::temp_dir().join(format!("kabinet-dist-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dist.join("assets")).expect("mkdir");
    std::fs::write(dist.join("index.html"), "<!doctype html><title>app</title>").expect("write");
    std::fs::write(dist.join("assets/app-1234.js"), "console.log(1)").expect("write");
    let db = kabinet_tests::TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let config = kabinet_gateway::GatewayConfig {
        web_dir: dist,
        ..Default::default()
    };
    let app = TestApp::serve(db, config).await.expect("app");
    let client = app.client("demo.localhost");

    let deep_link = client.get("/console/tickets/123").await;
    assert_eq!(deep_link.status(), StatusCode::OK);
    assert_eq!(deep_link.headers()["cache-control"], "no-cache");
    assert!(
        deep_link
            .text()
            .await
            .expect("html")
            .contains("<title>app</title>")
    );

    let asset = client.get("/assets/app-1234.js").await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    assert_eq!(
        client.get("/assets/gone-9999.js").await.status(),
        StatusCode::NOT_FOUND
    );

    let head = client
        .raw()
        .head(client.url("/"))
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.text().await.expect("body").is_empty());

    let post = client
        .raw()
        .post(client.url("/"))
        .send()
        .await
        .expect("post");
    assert_eq!(
        post.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("GET, HEAD")
    );
    assert_problem(post, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}
