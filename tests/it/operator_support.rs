//! Operator support: an operator enters an ISP's console with a reason and a time box through a
//! single-use token redeemable on that ISP's host only; the visit has its own narrow permissions,
//! its actions are audited as the operator, the owner sees and ends it, and the chain verifies.

use kabinet_db::sqlx;
use kabinet_tests::{Client, PASSWORD, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

const REASON: &str = "Тикет поддержки #42: не видны тарифы";

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

async fn start(op: &Client, slug: &str, access: &str) -> Value {
    json_body(
        op.post(
            &format!("/api/v1/platform/tenants/{slug}/impersonations"),
            &json!({"reason": REASON, "minutes": 30, "access": access}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

/// Redeems the entry token on `host` like the browser page does.
async fn enter(app: &TestApp, host: &str, token: &str) -> (Client, reqwest::Response) {
    let mut client = app.client(host);
    let resp = client
        .post("/api/v1/auth/impersonation", &json!({"token": token}))
        .await;
    client.csrf = None;
    (client, resp)
}

async fn entered(app: &TestApp, host: &str, token: &str) -> Client {
    let (mut client, resp) = enter(app, host, token).await;
    let session = json_body(resp, StatusCode::OK).await;
    client.csrf = Some(session["csrf_token"].as_str().expect("csrf").to_owned());
    client
}

#[tokio::test]
async fn a_visit_needs_a_reason_and_only_an_operator_can_start_one() {
    let app = TestApp::spawn().await.expect("app");
    let op = operator(&app).await;
    let path = "/api/v1/platform/tenants/demo/impersonations";
    assert_problem(
        op.post(path, &json!({"reason": "   ", "minutes": 30}))
            .await,
        StatusCode::BAD_REQUEST,
        "reason_required",
    )
    .await;
    assert_eq!(
        op.post(path, &json!({"minutes": 30})).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_problem(
        op.post(path, &json!({"reason": REASON, "minutes": 600}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_duration",
    )
    .await;
    // Staff and subscribers on the ISP's host have no such operation; on the platform host their
    // sessions do not exist.
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    assert_ne!(
        owner
            .post(path, &json!({"reason": REASON, "minutes": 30}))
            .await
            .status(),
        StatusCode::CREATED
    );
    let subscriber = app.subscriber("demo.localhost", "100001").await;
    assert_ne!(
        subscriber
            .post(path, &json!({"reason": REASON, "minutes": 30}))
            .await
            .status(),
        StatusCode::CREATED
    );
    let anonymous = app.client("admin.localhost");
    assert_problem(
        anonymous
            .post(path, &json!({"reason": REASON, "minutes": 30}))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // Nothing was started by any of them.
    let list = json_body(op.get(path).await, StatusCode::OK).await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn the_entry_token_works_once_on_its_own_isp_host_only_and_expires() {
    let app = TestApp::spawn().await.expect("app");
    let op = operator(&app).await;
    let started = start(&op, "demo", "read_only").await;
    assert_eq!(started["host"], "demo.localhost");
    let token = started["token"].as_str().expect("token");

    // Another ISP's host does not know it (and trying does not use it up).
    let (_, elsewhere) = enter(&app, "northnet.localhost", token).await;
    assert_problem(elsewhere, StatusCode::GONE, "impersonation_link_invalid").await;

    let (mut visit, resp) = enter(&app, "demo.localhost", token).await;
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_owned();
    let session = json_body(resp, StatusCode::OK).await;
    visit.csrf = session["csrf_token"].as_str().map(str::to_owned);
    let session = json_body(visit.get("/api/v1/session").await, StatusCode::OK).await;
    assert_eq!(session["kind"], "staff");
    assert_eq!(session["impersonation"]["reason"], REASON);
    assert_eq!(session["impersonation"]["access"], "read_only");
    assert_eq!(session["roles"], json!([]));
    assert!(
        !session["permissions"]
            .as_array()
            .expect("permissions")
            .contains(&json!("staff.manage"))
    );

    // Single use.
    let (_, again) = enter(&app, "demo.localhost", token).await;
    assert_problem(again, StatusCode::GONE, "impersonation_link_invalid").await;

    // The visit's cookie is no session on another ISP's host.
    let northnet = app.client("northnet.localhost");
    let foreign = northnet
        .raw()
        .get(northnet.url("/api/v1/console/subscribers"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(foreign.status(), StatusCode::UNAUTHORIZED);
    let home = app.client("demo.localhost");
    let same = home
        .raw()
        .get(home.url("/api/v1/console/subscribers"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(same.status(), StatusCode::OK);

    // A token not redeemed within its minute is dead.
    let late = start(&op, "demo", "read_only").await;
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query(
        "UPDATE impersonations SET token_expires_at = now() - interval '1 second' WHERE id = $1",
    )
    .bind(uuid(&late["visit"]["id"]))
    .execute(&mut admin)
    .await
    .expect("expire token");
    let (_, expired) = enter(&app, "demo.localhost", late["token"].as_str().expect("t")).await;
    assert_problem(expired, StatusCode::GONE, "impersonation_link_invalid").await;
}

fn uuid(v: &Value) -> uuid::Uuid {
    v.as_str().expect("id").parse().expect("uuid")
}

#[tokio::test]
async fn a_visit_has_its_own_permissions_is_audited_as_the_operator_and_ends_at_its_time_box() {
    let app = TestApp::spawn().await.expect("app");
    let op = operator(&app).await;

    // Read-only: sees, changes nothing, and never reaches the owner's own account.
    let ro = start(&op, "demo", "read_only").await;
    let ro_visit = entered(&app, "demo.localhost", ro["token"].as_str().expect("t")).await;
    json_body(
        ro_visit.get("/api/v1/console/subscribers").await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        ro_visit
            .post(
                "/api/v1/console/subscribers",
                &json!({"account_number": "777001", "full_name": "Тест Оператора"}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        ro_visit
            .post("/api/v1/console/me/two-factor/enrollment", &json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // Support: its change is the operator's in the audit log, not the owner's.
    let support = start(&op, "demo", "support").await;
    let visit = entered(
        &app,
        "demo.localhost",
        support["token"].as_str().expect("t"),
    )
    .await;
    json_body(
        visit
            .post(
                "/api/v1/console/subscribers",
                &json!({"account_number": "777001", "full_name": "Тест Оператора"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    // Staff management stays out of reach even for support.
    assert_problem(
        visit.get("/api/v1/console/staff").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let log = json_body(
        owner
            .get("/api/v1/console/audit?action=subscriber.create")
            .await,
        StatusCode::OK,
    )
    .await;
    let entry = &log["items"][0];
    assert_eq!(entry["actor"]["kind"], "operator");
    assert_eq!(entry["details"]["impersonation"], support["visit"]["id"]);
    let starts = json_body(
        owner
            .get("/api/v1/console/audit?action=impersonation.start")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(starts["items"].as_array().expect("items").len(), 2);
    // The owner got a letter about each visit.
    let letters: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM mail_outbox o JOIN tenants t ON t.id = o.tenant_id \
         WHERE t.slug = 'demo' AND o.to_addr = 'owner@demo.example' \
           AND o.subject LIKE 'Оператор платформы вошёл%'",
    )
    .fetch_one(&mut app.db.admin().await.expect("admin"))
    .await
    .expect("letters");
    assert_eq!(letters, 2);
    assert_eq!(starts["items"][0]["details"]["reason"], REASON);

    // The time box passes (the row's deadline moved into the past): the session is refused at
    // once, whatever the cookie's own lifetime says.
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE impersonations SET expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(uuid(&support["visit"]["id"]))
        .execute(&mut admin)
        .await
        .expect("time passes");
    assert_eq!(
        visit.get("/api/v1/console/subscribers").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The other visit is untouched.
    assert_eq!(
        ro_visit.get("/api/v1/console/subscribers").await.status(),
        StatusCode::OK
    );

    let verification = json_body(
        owner.get("/api/v1/console/audit/verification").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verification["state"], "intact");
}

#[tokio::test]
async fn the_owner_sees_the_visits_and_either_side_ends_one_early() {
    let app = TestApp::spawn().await.expect("app");
    let op = operator(&app).await;
    let first = start(&op, "demo", "read_only").await;
    let first_visit = entered(&app, "demo.localhost", first["token"].as_str().expect("t")).await;
    let second = start(&op, "demo", "read_only").await;
    let second_visit = entered(&app, "demo.localhost", second["token"].as_str().expect("t")).await;
    let third = start(&op, "demo", "read_only").await;
    let mut third_visit =
        entered(&app, "demo.localhost", third["token"].as_str().expect("t")).await;

    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let list = json_body(
        owner.get("/api/v1/console/impersonations").await,
        StatusCode::OK,
    )
    .await;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["id"], third["visit"]["id"]);
    assert_eq!(items[0]["operator_name"], first["visit"]["operator_name"]);
    assert_eq!(items[0]["reason"], REASON);
    assert_eq!(items[0]["active"], true);
    assert!(items[0]["entered_at"].is_string());

    // The owner ends the first.
    let ended = json_body(
        owner
            .post(
                &format!(
                    "/api/v1/console/impersonations/{}/end",
                    first["visit"]["id"].as_str().expect("id")
                ),
                &json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ended["ended_by"], "owner");
    assert_eq!(ended["active"], false);
    assert_eq!(
        first_visit.get("/api/v1/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The operator ends the second from the platform console.
    let ended = json_body(
        op.post(
            &format!(
                "/api/v1/platform/tenants/demo/impersonations/{}/end",
                second["visit"]["id"].as_str().expect("id")
            ),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ended["ended_by"], "operator");
    assert_eq!(
        second_visit.get("/api/v1/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Signing out of the third ends it too, and only it: the owner's own session lives on.
    let out = third_visit
        .post("/api/v1/auth/logout-everywhere", &json!({}))
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    third_visit.csrf = None;
    json_body(owner.get("/api/v1/session").await, StatusCode::OK).await;

    let list = json_body(
        owner.get("/api/v1/console/impersonations").await,
        StatusCode::OK,
    )
    .await;
    let ended_by: Vec<&Value> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| &i["ended_by"])
        .collect();
    assert_eq!(
        ended_by,
        vec![&json!("signed_out"), &json!("operator"), &json!("owner")]
    );
    let ends = json_body(
        owner
            .get("/api/v1/console/audit?action=impersonation.end")
            .await,
        StatusCode::OK,
    )
    .await;
    let actors: Vec<&Value> = ends["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| &i["actor"]["kind"])
        .collect();
    assert_eq!(
        actors,
        vec![&json!("operator"), &json!("operator"), &json!("staff")]
    );
    // A support agent cannot end visits; a read-only viewer cannot even list them.
    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    assert_problem(
        agent
            .post(
                &format!(
                    "/api/v1/console/impersonations/{}/end",
                    third["visit"]["id"].as_str().expect("id")
                ),
                &json!({}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let verification = json_body(
        owner.get("/api/v1/console/audit/verification").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verification["state"], "intact");
}
