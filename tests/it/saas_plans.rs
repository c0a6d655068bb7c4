//! SaaS plans and dunning: the operator's price list and moving an ISP between plans (audited in
//! the ISP's chain); limits refused at the limit for subscribers (console and CSV import, dry run
//! included), staff seats and storage, with warnings from 80 % and 95 %; two concurrent creates at
//! the last free place; and dunning walked with a fixed clock — warning, read-only, suspension,
//! recovery — with exactly one letter per step over real SMTP.

use chrono::{DateTime, Duration, TimeZone, Utc};
use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_provisioning::dunning::{self, BillingState};
use kabinet_tests::{Client, PASSWORD, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

const DEMO: &str = "demo.localhost";
const OWNER: &str = "owner@demo.example";

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

fn plan(name: &str, subscribers: Option<i64>, seats: Option<i64>, storage: Option<i64>) -> Value {
    json!({
        "name": name,
        "price_per_subscriber": 900,
        "currency": "RUB",
        "max_subscribers": subscribers,
        "max_staff_seats": seats,
        "max_storage_bytes": storage,
        "features": ["online_payments"],
    })
}

/// Creates plan `code` with the given limits and moves demo onto it.
async fn demo_on_plan(
    op: &Client,
    code: &str,
    subscribers: Option<i64>,
    seats: Option<i64>,
    storage: Option<i64>,
) {
    let mut body = plan("Tight", subscribers, seats, storage);
    body["code"] = code.into();
    json_body(
        op.post("/api/v1/platform/plans", &body).await,
        StatusCode::OK,
    )
    .await;
    json_body(
        op.put(
            "/api/v1/platform/tenants/demo/plan",
            &json!({ "plan": code }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

async fn console_plan(staff: &Client) -> Value {
    json_body(staff.get("/api/v1/console/plan").await, StatusCode::OK).await
}

fn usage<'a>(plan: &'a Value, limit: &str) -> &'a Value {
    plan["usage"]
        .as_array()
        .expect("usage")
        .iter()
        .find(|u| u["limit"] == limit)
        .expect("limit listed")
}

async fn create_subscriber(staff: &Client, n: u32) -> reqwest::Response {
    staff
        .post(
            "/api/v1/console/subscribers",
            &json!({ "account_number": format!("55{n:04}"), "full_name": format!("Абонент {n}") }),
        )
        .await
}

#[tokio::test]
async fn operators_manage_plans_and_move_isps_between_them_with_an_audit_entry() {
    let app = TestApp::spawn().await.expect("app");
    let op = operator(&app).await;
    let list = json_body(op.get("/api/v1/platform/plans").await, StatusCode::OK).await;
    let codes: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["code"].as_str())
        .collect();
    for seeded in ["starter", "growth", "pro"] {
        assert!(codes.contains(&seeded), "{codes:?}");
    }
    let pro = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["code"] == "pro")
        .expect("pro");
    assert_eq!(pro["tenants"], 2, "both demo ISPs are on pro");

    let mut body = plan("Mini", Some(50), Some(2), None);
    body["code"] = "mini".into();
    let created = json_body(
        op.post("/api/v1/platform/plans", &body).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(created["max_subscribers"], 50);
    assert!(created.get("max_storage_bytes").is_none(), "unlimited");
    assert_problem(
        op.post("/api/v1/platform/plans", &body).await,
        StatusCode::CONFLICT,
        "plan_code_taken",
    )
    .await;
    let mut edited = plan("Mini+", Some(60), Some(3), Some(1_000_000));
    edited["archived"] = false.into();
    let updated = json_body(
        op.put("/api/v1/platform/plans/mini", &edited).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&updated["name"], &updated["max_subscribers"]),
        (&json!("Mini+"), &json!(60))
    );

    // Staff of an ISP cannot touch the price list.
    let staff = app.staff(DEMO, OWNER).await;
    assert_eq!(
        staff.get("/api/v1/platform/plans").await.status(),
        StatusCode::UNAUTHORIZED
    );

    json_body(
        op.put(
            "/api/v1/platform/tenants/demo/plan",
            &json!({"plan": "mini"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(console_plan(&staff).await["plan"]["code"], "mini");
    let demo = tenant_id(&app, "demo").await;
    let mut admin = app.db.admin().await.expect("admin");
    let (operator_id, details): (Option<uuid::Uuid>, Value) = sqlx::query_as(
        "SELECT operator_id, details FROM audit_log \
         WHERE tenant_id = $1 AND action = 'tenant.change_plan'",
    )
    .bind(demo.as_uuid())
    .fetch_one(&mut admin)
    .await
    .expect("audited");
    assert!(operator_id.is_some());
    assert_eq!(details["before"]["saas_plan"], "pro");
    assert_eq!(details["after"]["saas_plan"], "mini");

    // Archived: kept by its ISPs, offered to nobody new.
    edited["archived"] = true.into();
    json_body(
        op.put("/api/v1/platform/plans/mini", &edited).await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        op.put(
            "/api/v1/platform/tenants/northnet/plan",
            &json!({"plan": "mini"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "plan_archived",
    )
    .await;
    let offered = json_body(
        app.client("admin.localhost")
            .get("/api/v1/signup/plans")
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        !offered["items"]
            .as_array()
            .expect("items")
            .contains(&json!("mini"))
    );
    assert_eq!(console_plan(&staff).await["plan"]["code"], "mini");
    assert_problem(
        op.put(
            "/api/v1/platform/tenants/demo/plan",
            &json!({"plan": "nope"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_plan",
    )
    .await;
}

/// Creates subscribers in the console until the ISP has `target`.
async fn fill_to(staff: &Client, target: i64) {
    loop {
        let now = usage(&console_plan(staff).await, "subscribers")["used"]
            .as_i64()
            .expect("used");
        if now >= target {
            return;
        }
        let resp = create_subscriber(staff, now as u32 + 1).await;
        assert!(resp.status().is_success(), "{}", resp.status());
    }
}

#[tokio::test]
async fn subscribers_are_refused_at_the_limit_with_warnings_before_it() {
    let app = TestApp::spawn().await.expect("app");
    let op = operator(&app).await;
    let staff = app.staff(DEMO, OWNER).await;
    let used = usage(&console_plan(&staff).await, "subscribers")["used"]
        .as_i64()
        .expect("used");
    // 20 places: 80 % at 16, 95 % at 19.
    let max = used + 20;
    demo_on_plan(&op, "tight", Some(max), None, None).await;
    fill_to(&staff, max - 5).await;
    let at_75 = console_plan(&staff).await;
    assert_eq!(at_75["warning"], "none");
    fill_to(&staff, max - 4).await;
    let at_80 = console_plan(&staff).await;
    assert_eq!(at_80["warning"], "approaching");
    assert_eq!(usage(&at_80, "subscribers")["warning"], "approaching");
    fill_to(&staff, max - 1).await;
    assert_eq!(console_plan(&staff).await["warning"], "critical");
    fill_to(&staff, max).await;
    let refused = assert_problem(
        create_subscriber(&staff, 9_000).await,
        StatusCode::CONFLICT,
        "plan_limit_reached",
    )
    .await;
    assert_eq!(
        refused["plan_limit"],
        json!({"limit": "subscribers", "max": max, "current": max + 1})
    );
    assert_eq!(
        usage(&console_plan(&staff).await, "subscribers")["used"],
        max,
        "nothing was written"
    );

    // The CSV import refuses the whole file, in a dry run too, and writes nothing.
    let csv = "account_number;name\n880001;Один\n880002;Два\n";
    for query in ["?dry_run=true", ""] {
        let mut req = staff
            .raw()
            .post(staff.url(&format!("/api/v1/console/subscribers/import{query}")))
            .header("content-type", "text/csv")
            .body(csv);
        if let Some(token) = &staff.csrf {
            req = req.header("x-csrf-token", token);
        }
        let refused = assert_problem(
            req.send().await.expect("import"),
            StatusCode::CONFLICT,
            "plan_limit_reached",
        )
        .await;
        assert_eq!(refused["plan_limit"]["limit"], "subscribers");
    }
    assert_eq!(
        usage(&console_plan(&staff).await, "subscribers")["used"],
        max
    );
}

#[tokio::test]
async fn two_concurrent_creates_cannot_both_take_the_last_place() {
    let app = TestApp::spawn().await.expect("app");
    let op = operator(&app).await;
    let staff = app.staff(DEMO, OWNER).await;
    let used = usage(&console_plan(&staff).await, "subscribers")["used"]
        .as_i64()
        .expect("used");
    demo_on_plan(&op, "tight", Some(used + 1), None, None).await;
    let (a, b, c) = tokio::join!(
        create_subscriber(&staff, 7001),
        create_subscriber(&staff, 7002),
        create_subscriber(&staff, 7003),
    );
    let statuses = [a.status(), b.status(), c.status()];
    assert_eq!(
        statuses.iter().filter(|s| s.is_success()).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        usage(&console_plan(&staff).await, "subscribers")["used"],
        used + 1
    );
}

#[tokio::test]
async fn staff_seats_and_storage_are_refused_at_the_limit() {
    let app = TestApp::spawn().await.expect("app");
    let op = operator(&app).await;
    let staff = app.staff(DEMO, OWNER).await;
    let before = console_plan(&staff).await;
    let seats = usage(&before, "staff_seats")["used"]
        .as_i64()
        .expect("seats");
    let storage = usage(&before, "storage")["used"].as_i64().expect("bytes");
    demo_on_plan(&op, "tight", None, Some(seats + 1), Some(storage + 100)).await;
    let invite = |email: &'static str| {
        let staff = &staff;
        async move {
            staff
                .post(
                    "/api/v1/console/invitations",
                    &json!({ "email": email, "role": { "kind": "built_in", "role": "support_agent" } }),
                )
                .await
        }
    };
    assert_eq!(
        invite("first@demo.example").await.status(),
        StatusCode::CREATED
    );
    // An open invitation holds its seat.
    let refused = assert_problem(
        invite("second@demo.example").await,
        StatusCode::CONFLICT,
        "plan_limit_reached",
    )
    .await;
    assert_eq!(
        refused["plan_limit"],
        json!({"limit": "staff_seats", "max": seats + 1, "current": seats + 2})
    );
    assert_eq!(console_plan(&staff).await["warning"], "critical");

    // Storage: a 200-byte attachment does not fit in 100 free bytes.
    let sub = app.subscriber(DEMO, "100001").await;
    let big = vec![b'a'; 200];
    let refused = assert_problem(
        crate::attachments::post_multipart(
            &sub,
            "/api/v1/me/tickets",
            &[
                ("category", "connectivity"),
                ("subject", "Лог"),
                ("description", "Во вложении"),
            ],
            &[("log.txt", &big)],
        )
        .await,
        StatusCode::CONFLICT,
        "plan_limit_reached",
    )
    .await;
    assert_eq!(refused["plan_limit"]["limit"], "storage");
    // A small one fits.
    let small = vec![b'a'; 50];
    let resp = crate::attachments::post_multipart(
        &sub,
        "/api/v1/me/tickets",
        &[
            ("category", "connectivity"),
            ("subject", "Лог"),
            ("description", "Во вложении"),
        ],
        &[("log.txt", &small)],
    )
    .await;
    assert!(
        resp.status() != StatusCode::CONFLICT,
        "a file within the limit is accepted"
    );
}

/// Polls until the tenant's cached state reaches every node (a NOTIFY away).
async fn until_status(client: &Client, path: &str, status: StatusCode) -> reqwest::Response {
    for _ in 0..50 {
        let resp = client.get(path).await;
        if resp.status() == status {
            return resp;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} never answered {status}");
}

#[tokio::test]
async fn dunning_walks_warning_read_only_and_suspension_with_one_letter_each_and_recovers() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let db = &app.state.db;
    let demo = tenant_id(&app, "demo").await;
    let t0: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let day = |d: i64| t0 + Duration::days(d);
    let staff = app.staff(DEMO, OWNER).await;
    let subscriber = app.subscriber(DEMO, "100001").await;

    assert_eq!(
        dunning::payment_failed(db, demo, t0).await.expect("failed"),
        BillingState::PastDue
    );
    // A repeated failure, and a round before anything is due, change nothing.
    dunning::payment_failed(db, demo, day(1))
        .await
        .expect("again");
    assert_eq!(
        dunning::advance(db, demo, day(6)).await.expect("round"),
        None
    );
    let letters = smtp.wait_for(OWNER, 1).await;
    assert!(
        letters[0].subject().contains("Не прошла оплата"),
        "{}",
        letters[0].subject()
    );
    let page = console_plan(&staff).await;
    assert_eq!(page["billing"], "past_due");
    assert!(
        page["next_step_at"]
            .as_str()
            .expect("next")
            .starts_with("2026-03-08")
    );
    // Past due is a warning only: changes still work.
    assert!(
        create_subscriber(&staff, 1).await.status().is_success(),
        "past due still writes"
    );

    assert_eq!(
        dunning::advance(db, demo, day(7)).await.expect("round"),
        Some(BillingState::ReadOnly)
    );
    assert_eq!(
        dunning::advance(db, demo, day(8)).await.expect("round"),
        None
    );
    let letters = smtp.wait_for(OWNER, 2).await;
    assert!(
        letters[1].subject().contains("только для чтения"),
        "{}",
        letters[1].subject()
    );
    // Read-only: writes refused, reads, sign-in and the subscriber's portal still work.
    let refused = until_status_write(&staff).await;
    assert_eq!(refused, StatusCode::LOCKED);
    assert_problem(
        create_subscriber(&staff, 2).await,
        StatusCode::LOCKED,
        "tenant_read_only",
    )
    .await;
    json_body(
        staff.get("/api/v1/console/subscribers").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(console_plan(&staff).await["billing"], "read_only");
    let again = app.staff(DEMO, OWNER).await;
    json_body(again.get("/api/v1/console/plan").await, StatusCode::OK).await;
    json_body(subscriber.get("/api/v1/me/dashboard").await, StatusCode::OK).await;

    assert_eq!(
        dunning::advance(db, demo, day(14)).await.expect("round"),
        Some(BillingState::Suspended)
    );
    let letters = smtp.wait_for(OWNER, 3).await;
    assert!(
        letters[2].subject().contains("приостановлен"),
        "{}",
        letters[2].subject()
    );
    assert_problem(
        until_status(&subscriber, "/api/v1/me/dashboard", StatusCode::FORBIDDEN).await,
        StatusCode::FORBIDDEN,
        "tenant_suspended",
    )
    .await;

    assert_eq!(
        dunning::payment_succeeded(db, demo, day(15))
            .await
            .expect("paid"),
        BillingState::Current
    );
    dunning::payment_succeeded(db, demo, day(15))
        .await
        .expect("paid twice");
    json_body(
        until_status(&subscriber, "/api/v1/me/dashboard", StatusCode::OK).await,
        StatusCode::OK,
    )
    .await;
    let letters = smtp.wait_for(OWNER, 4).await;
    assert!(
        letters[3].subject().contains("Оплата получена"),
        "{}",
        letters[3].subject()
    );
    assert!(
        create_subscriber(&staff, 3).await.status().is_success(),
        "writes work again"
    );
    // Exactly one letter per step: nothing more arrives.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.messages_to(OWNER).len(), 4);

    // Each step is in the ISP's audit chain.
    let mut admin = app.db.admin().await.expect("admin");
    let steps: Vec<Value> = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE tenant_id = $1 AND action LIKE 'saas_billing.%' ORDER BY seq",
    )
    .bind(demo.as_uuid())
    .fetch_all(&mut admin)
    .await
    .expect("audit");
    let states: Vec<&str> = steps
        .iter()
        .filter_map(|d| d["after"]["state"].as_str())
        .collect();
    assert_eq!(states, ["past_due", "read_only", "suspended", "current"]);
}

/// Waits for read-only mode to reach the node, returning the status of a console write.
async fn until_status_write(staff: &Client) -> StatusCode {
    for n in 0..50 {
        let resp = staff
            .put("/api/v1/console/plan-probe", &json!({ "n": n }))
            .await;
        if resp.status() == StatusCode::LOCKED {
            return resp.status();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    StatusCode::OK
}

#[tokio::test]
async fn a_payment_lifts_only_a_dunning_suspension_never_the_operators() {
    let app = TestApp::spawn().await.expect("app");
    let db = &app.state.db;
    let op = operator(&app).await;
    let demo = tenant_id(&app, "demo").await;
    let t0: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap();
    json_body(
        op.post(
            "/api/v1/platform/tenants/demo/suspend",
            &json!({"reason": "Abuse complaint"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    dunning::payment_failed(db, demo, t0).await.expect("failed");
    assert_eq!(
        dunning::advance(db, demo, t0 + Duration::days(30))
            .await
            .expect("round"),
        Some(BillingState::Suspended)
    );
    dunning::payment_succeeded(db, demo, t0 + Duration::days(31))
        .await
        .expect("paid");
    let mut admin = app.db.admin().await.expect("admin");
    let (status, reason): (String, Option<String>) =
        sqlx::query_as("SELECT status, suspended_reason FROM tenants WHERE id = $1")
            .bind(demo.as_uuid())
            .fetch_one(&mut admin)
            .await
            .expect("tenant");
    assert_eq!(
        (status.as_str(), reason.as_deref()),
        ("suspended", Some("Abuse complaint"))
    );
}

/// Plan features are enforced by the writing statement: on a plan without them, a custom
/// domain and a NAS are refused with `plan_feature_missing` naming the feature, and what the ISP
/// already has keeps working; back on a plan with them, the same requests succeed.
#[tokio::test]
async fn features_missing_from_the_plan_are_refused_and_existing_rows_stay() {
    let app = TestApp::spawn().await.expect("app");
    let op = operator(&app).await;
    let staff = app.staff(DEMO, OWNER).await;
    let nas = |name: &str, address: &str| {
        json!({
            "name": name, "address": address, "vendor": "mikrotik", "area": "north",
            "coa_port": 3799,
        })
    };
    // On pro (seeded), a NAS is fine.
    assert_eq!(
        staff
            .post("/api/v1/console/nas", &nas("bras-1", "127.0.0.21"))
            .await
            .status(),
        StatusCode::CREATED
    );

    // Starter has no features.
    json_body(
        op.put(
            "/api/v1/platform/tenants/demo/plan",
            &json!({ "plan": "starter" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let refused = assert_problem(
        staff
            .post(
                "/api/v1/console/settings/domains",
                &json!({ "domain": "portal.demo-isp.ru" }),
            )
            .await,
        StatusCode::FORBIDDEN,
        "plan_feature_missing",
    )
    .await;
    assert_eq!(refused["plan_feature"], "custom_domains", "{refused}");
    let refused = assert_problem(
        staff
            .post("/api/v1/console/nas", &nas("bras-2", "127.0.0.22"))
            .await,
        StatusCode::FORBIDDEN,
        "plan_feature_missing",
    )
    .await;
    assert_eq!(refused["plan_feature"], "network");
    // The NAS registered before the move is still there.
    let listed = json_body(staff.get("/api/v1/console/nas").await, StatusCode::OK).await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );

    // Back on pro: the same requests go through.
    json_body(
        op.put(
            "/api/v1/platform/tenants/demo/plan",
            &json!({ "plan": "pro" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        staff
            .post(
                "/api/v1/console/settings/domains",
                &json!({ "domain": "portal.demo-isp.ru" }),
            )
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        staff
            .post("/api/v1/console/nas", &nas("bras-2", "127.0.0.22"))
            .await
            .status(),
        StatusCode::CREATED
    );
}

/// Card payments follow the plan: an ISP moved to a plan without them keeps its Stripe account,
/// but its subscribers are not offered card top-ups and a checkout is refused as unavailable.
#[tokio::test]
async fn card_payments_stop_on_a_plan_without_them_and_resume_after() {
    async fn online(client: &Client) -> Value {
        json_body(
            client.get("/api/v1/me/payment-options").await,
            StatusCode::OK,
        )
        .await["online"]
            .clone()
    }
    async fn move_demo(op: &Client, plan: &str) {
        json_body(
            op.put(
                "/api/v1/platform/tenants/demo/plan",
                &json!({ "plan": plan }),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
    let (app, _stripe) = TestApp::spawn_with_stripe().await.expect("app");
    let op = operator(&app).await;
    let subscriber = app.subscriber(DEMO, "100001").await;
    assert_eq!(online(&subscriber).await, true);
    move_demo(&op, "starter").await;
    assert_eq!(online(&subscriber).await, false);
    assert_problem(
        subscriber
            .post(
                "/api/v1/me/payments/checkout",
                &json!({"amount_minor": 50_000, "save_card": false}),
            )
            .await,
        StatusCode::CONFLICT,
        "online_payments_unavailable",
    )
    .await;
    move_demo(&op, "pro").await;
    assert_eq!(online(&subscriber).await, true);
}
