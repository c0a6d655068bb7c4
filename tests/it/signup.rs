//! Self-serve signup end to end (the form on the platform host, the confirmation letter over
//! real SMTP, the owner's first sign-in on the new ISP's host, the checklist, publishing), and
//! the operator's tenant list, suspension and resumption.

use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_tests::{PASSWORD, ReceivedMail, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

const OWNER_PASSWORD: &str = "owner's long secret 7";

fn form(slug: &str, email: &str) -> Value {
    json!({
        "isp_name": "Акме Телеком",
        "slug": slug,
        "owner_name": "Анна Петрова",
        "email": email,
        "password": OWNER_PASSWORD,
        "currency": "RUB",
        "time_zone": "Asia/Yekaterinburg",
        "language": "ru",
        "plan": "starter",
    })
}

fn confirmation_token(mail: &ReceivedMail, base: &str) -> String {
    let text = mail.text();
    let prefix = format!("{base}/console/confirm?token=");
    let start = text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no link to {prefix} in: {text}"))
        + prefix.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn availability(platform: &kabinet_tests::Client, slug: &str) -> String {
    let body = json_body(
        platform
            .get(&format!("/api/v1/signup/slug?slug={slug}"))
            .await,
        StatusCode::OK,
    )
    .await;
    body["availability"]
        .as_str()
        .expect("availability")
        .to_owned()
}

#[tokio::test]
async fn an_isp_signs_up_confirms_its_email_sets_up_and_publishes_its_portal() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let platform = app.client("admin.localhost");

    assert_eq!(availability(&platform, "acme").await, "available");
    assert_eq!(availability(&platform, "demo").await, "taken");
    assert_eq!(availability(&platform, "admin").await, "reserved");
    assert_eq!(availability(&platform, "-bad-").await, "malformed");
    // Signup exists only on the platform host.
    assert_problem(
        app.client("demo.localhost")
            .post("/api/v1/signup", &form("acme", "anna@acme.example"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let started = json_body(
        platform
            .post("/api/v1/signup", &form("acme", "Anna@Acme.example"))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let base = format!("http://acme.localhost:{}", app.addr.port());
    assert_eq!(started["slug"], "acme");
    assert_eq!(started["console_url"], format!("{base}/console"));
    let trial_ends: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(started["trial_ends_at"].clone()).expect("trial end");
    let days = (trial_ends - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!((13.9..=14.1).contains(&days), "a 14-day trial, got {days}");
    assert_eq!(availability(&platform, "acme").await, "taken");
    // The same subdomain again is refused, and never takes over the first ISP.
    assert_problem(
        platform
            .post("/api/v1/signup", &form("acme", "mallory@evil.example"))
            .await,
        StatusCode::CONFLICT,
        "slug_taken",
    )
    .await;

    // Until the e-mail is confirmed, the owner cannot sign in.
    let mut owner = app.client("acme.localhost");
    assert_problem(
        owner.login_staff("anna@acme.example", OWNER_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;

    let letters = smtp.wait_for("anna@acme.example", 1).await;
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0].subject().contains("Акме Телеком"),
        "{}",
        letters[0].subject()
    );
    let token = confirmation_token(&letters[0], &base);
    assert!(smtp.messages_to("mallory@evil.example").is_empty());

    let signed_in = json_body(
        owner
            .post("/api/v1/auth/signup/confirm", &json!({ "token": token }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(signed_in["outcome"], "signed_in");
    assert_eq!(signed_in["roles"], json!(["owner"]));
    owner.csrf = signed_in["csrf_token"].as_str().map(str::to_owned);
    // The link works once.
    assert_problem(
        app.client("acme.localhost")
            .post("/api/v1/auth/signup/confirm", &json!({ "token": token }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_signup_link",
    )
    .await;
    // And the password works from now on.
    let mut again = app.client("acme.localhost");
    json_body(
        again.login_staff("anna@acme.example", OWNER_PASSWORD).await,
        StatusCode::OK,
    )
    .await;

    let checklist = json_body(
        owner.get("/api/v1/console/onboarding").await,
        StatusCode::OK,
    )
    .await;
    let done: Vec<(&str, bool)> = checklist["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| (i["step"].as_str().expect("step"), i["done"] == true))
        .collect();
    assert_eq!(
        done,
        vec![
            ("branding", false),
            ("tariffs", false),
            ("subscribers", false),
            ("payments", false),
            ("staff", false),
            ("publish", false),
        ]
    );
    let site = json_body(
        app.client("acme.localhost").get("/api/v1/site").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(site["published"], false);
    assert_eq!(site["branding"]["name"], "Акме Телеком");
    // Subscribers are told the portal is not open yet (not "wrong password").
    assert_problem(
        app.client("acme.localhost")
            .login_subscriber("000001", "whatever-password")
            .await,
        StatusCode::FORBIDDEN,
        "portal_not_published",
    )
    .await;

    let published = json_body(
        owner
            .post("/api/v1/console/onboarding/publish", &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(published["published"], true);
    assert_problem(
        app.client("acme.localhost")
            .login_subscriber("000001", "whatever-password")
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;

    // The new ISP is an ordinary tenant: its settings came through the manifest path, and its
    // audit log tells the story.
    let mut admin = app.db.admin().await.expect("admin");
    let (tz, currency, plan): (String, String, String) =
        sqlx::query_as("SELECT time_zone, currency, saas_plan FROM tenants WHERE slug = 'acme'")
            .fetch_one(&mut admin)
            .await
            .expect("tenant");
    assert_eq!(
        (tz.as_str(), currency.as_str(), plan.as_str()),
        ("Asia/Yekaterinburg", "RUB", "starter")
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log a JOIN tenants t ON t.id = a.tenant_id \
         WHERE t.slug = 'acme' ORDER BY a.at, a.id",
    )
    .fetch_all(&mut admin)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        vec!["signup.start", "signup.confirm", "portal.publish"]
    );
}

#[tokio::test]
async fn signup_refuses_bad_input_and_is_throttled_per_address() {
    let app = TestApp::spawn().await.expect("app");
    let platform = app.client("admin.localhost");
    let mut weak = form("weakling", "w@example.org");
    weak["password"] = json!("short");
    assert_problem(
        platform.post("/api/v1/signup", &weak).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "weak_password",
    )
    .await;
    let mut zone = form("zoneless", "z@example.org");
    zone["time_zone"] = json!("Mars/Olympus");
    assert_problem(
        platform.post("/api/v1/signup", &zone).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert_problem(
        platform
            .post("/api/v1/signup", &form("www", "x@example.org"))
            .await,
        StatusCode::CONFLICT,
        "slug_reserved",
    )
    .await;
    let mut plan = form("planless", "p@example.org");
    plan["plan"] = json!("platinum");
    assert_problem(
        platform.post("/api/v1/signup", &plan).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    // Nothing was created by the refused attempts.
    let mut admin = app.db.admin().await.expect("admin");
    let tenants: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(&mut admin)
        .await
        .expect("count");
    assert_eq!(tenants, 2);
    // A fifth attempt from this address is still heard; the sixth is refused.
    json_body(
        platform
            .post("/api/v1/signup", &form("fifth", "f@example.org"))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_problem(
        platform
            .post("/api/v1/signup", &form("sixth", "s@example.org"))
            .await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    )
    .await;
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

#[tokio::test]
async fn the_operator_sees_health_and_suspends_and_resumes_an_isp() {
    let app = TestApp::spawn().await.expect("app");
    let mut op = app.client("admin.localhost");
    json_body(
        op.login_operator("operator@kabinet.example", PASSWORD)
            .await,
        StatusCode::OK,
    )
    .await;
    // Health appears once a scheduler round has measured the tenant.
    let before = json_body(op.get("/api/v1/platform/tenants").await, StatusCode::OK).await;
    assert!(before["items"][0]["health"].is_null());
    let demo = tenant_id(&app, "demo").await;
    let mut tx = app.state.db.tenant_tx(demo).await.expect("tx");
    let usage = kabinet_tenancy::record_usage(&mut tx).await.expect("usage");
    tx.commit().await.expect("commit");
    let mut admin = app.db.admin().await.expect("admin");
    let (active, all): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'active'), count(*) FROM accounts WHERE tenant_id = $1",
    )
    .bind(demo.as_uuid())
    .fetch_one(&mut admin)
    .await
    .expect("accounts");
    assert_eq!(
        (usage.active_subscribers as i64, usage.subscribers as i64),
        (active, all)
    );
    assert!(
        active > 0 && active < all,
        "demo has active and blocked accounts"
    );

    let found = json_body(
        op.get("/api/v1/platform/tenants?q=NORTH").await,
        StatusCode::OK,
    )
    .await;
    let slugs: Vec<&str> = found["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["slug"].as_str())
        .collect();
    assert_eq!(slugs, vec!["northnet"]);
    let listed = json_body(
        op.get("/api/v1/platform/tenants?q=demo").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["items"][0]["health"]["active_subscribers"], active);
    assert_eq!(listed["items"][0]["published"], true);

    // Staff of an ISP cannot suspend anything.
    let staff = app.staff("demo.localhost", "owner@demo.example").await;
    assert_problem(
        staff
            .post(
                "/api/v1/platform/tenants/northnet/suspend",
                &json!({"reason": "nope"}),
            )
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    let subscriber = app.subscriber("demo.localhost", "100001").await;
    let suspended = json_body(
        op.post(
            "/api/v1/platform/tenants/demo/suspend",
            &json!({"reason": "Invoice 2026-11 unpaid"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(suspended["suspended_reason"], "Invoice 2026-11 unpaid");
    // Every node drops its cached tenant on the change: the portal is closed at once.
    let mut closed = false;
    for _ in 0..50 {
        let resp = subscriber.get("/api/v1/me/dashboard").await;
        if resp.status() == StatusCode::FORBIDDEN {
            assert_problem(resp, StatusCode::FORBIDDEN, "tenant_suspended").await;
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(closed, "the suspended portal refuses the subscriber");
    // Northnet is untouched.
    json_body(
        app.client("northnet.localhost").get("/api/v1/site").await,
        StatusCode::OK,
    )
    .await;

    json_body(
        op.post("/api/v1/platform/tenants/demo/resume", &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let mut open = false;
    for _ in 0..50 {
        if subscriber.get("/api/v1/me/dashboard").await.status() == StatusCode::OK {
            open = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        open,
        "the resumed portal serves its subscriber again, session intact"
    );

    // The ISP's own audit log shows who did it and why.
    let rows: Vec<(String, Value)> = sqlx::query_as(
        "SELECT action, details FROM audit_log WHERE tenant_id = $1 AND action LIKE 'tenant.%' ORDER BY at, id",
    )
    .bind(demo.as_uuid())
    .fetch_all(&mut admin)
    .await
    .expect("audit");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, "tenant.suspend");
    assert_eq!(rows[0].1["reason"], "Invoice 2026-11 unpaid");
    assert_eq!(rows[0].1["operator"]["name"], "Platform Operator");
    assert_eq!(rows[1].0, "tenant.resume");

    assert_problem(
        op.post("/api/v1/platform/tenants/nobody/resume", &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
