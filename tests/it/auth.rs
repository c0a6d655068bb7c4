//! Sign-in, sessions, CSRF, throttling and roles, through the gateway.

use kabinet_db::sqlx;
use kabinet_tests::{PASSWORD, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;

#[tokio::test]
async fn a_subscriber_signs_in_by_account_number_email_or_phone() {
    let app = TestApp::spawn().await.expect("app");
    for login in [
        "100001",
        "Ivan.Petrov@example.com",
        "8 (912) 345-67-89",
        "+79123456789",
    ] {
        let mut client = app.client("demo.localhost");
        let session = json_body(
            client.login_subscriber(login, PASSWORD).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(session["kind"], "subscriber", "{login}");
        assert_eq!(session["display_name"], "Иван Петров");
        let dashboard = json_body(client.get("/api/v1/me/dashboard").await, StatusCode::OK).await;
        assert_eq!(
            dashboard["account"]["balance"],
            json!({"minor": 125050, "currency": "RUB"})
        );
        assert_eq!(dashboard["tariff"]["name"], "Домашний 100");
        assert_eq!(dashboard["account"]["status"], "active");
        assert_eq!(dashboard["next_charge"]["amount"]["minor"], 55_000);
        assert!(
            dashboard["days_left"].as_i64().is_some_and(|d| d > 60),
            "{dashboard}"
        );
    }
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    let app = TestApp::spawn().await.expect("app");
    let mut client = app.client("demo.localhost");
    let resp = client.login_subscriber("100001", PASSWORD).await;
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("set-cookie")
        .to_owned();
    assert!(cookie.starts_with("kabinet_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
}

#[tokio::test]
async fn a_session_from_one_isp_is_rejected_on_another() {
    let app = TestApp::spawn().await.expect("app");
    let mut demo_client = app.client("demo.localhost");
    let resp = demo_client.login_subscriber("100001", PASSWORD).await;
    let header = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("cookie")
        .to_owned();
    let token = header.split(';').next().expect("name=value").to_owned();
    // Replay the demo cookie against northnet's host, as a stolen or misdirected cookie would be.
    let north = app.client("northnet.localhost");
    let resp = north
        .raw()
        .get(north.url("/api/v1/me/dashboard"))
        .header("cookie", &token)
        .send()
        .await
        .expect("request");
    assert_problem(resp, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    // And it still works where it belongs.
    let demo = app.client("demo.localhost");
    let resp = demo
        .raw()
        .get(demo.url("/api/v1/me/dashboard"))
        .header("cookie", &token)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn state_changing_requests_need_the_session_csrf_token_and_a_same_origin() {
    let app = TestApp::spawn().await.expect("app");
    let mut client = app.subscriber("demo.localhost", "100001").await;
    let ticket = json!({"category": "other", "subject": "CSRF", "description": "x"});
    let token = client.csrf.take().expect("token");
    assert_problem(
        client.post("/api/v1/me/tickets", &ticket).await,
        StatusCode::FORBIDDEN,
        "csrf_rejected",
    )
    .await;
    client.csrf = Some("not-the-token".into());
    assert_problem(
        client.post("/api/v1/me/tickets", &ticket).await,
        StatusCode::FORBIDDEN,
        "csrf_rejected",
    )
    .await;
    client.csrf = Some(token.clone());
    let resp = client
        .raw()
        .post(client.url("/api/v1/me/tickets"))
        .header("x-csrf-token", &token)
        .header("origin", "http://evil.example")
        .json(&ticket)
        .send()
        .await
        .expect("request");
    assert_problem(resp, StatusCode::FORBIDDEN, "csrf_rejected").await;
    json_body(
        client.post("/api/v1/me/tickets", &ticket).await,
        StatusCode::CREATED,
    )
    .await;
    // Nothing was written by the refused attempts.
    let list = json_body(client.get("/api/v1/me/tickets").await, StatusCode::OK).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn failed_sign_ins_look_the_same_whether_or_not_the_account_exists() {
    let app = TestApp::spawn().await.expect("app");
    let mut client = app.client("demo.localhost");
    let wrong_password = assert_problem(
        client.login_subscriber("100001", "nope").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let no_account = assert_problem(
        client.login_subscriber("999999", "nope").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong_password, no_account);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_even_against_the_right_password() {
    let app = TestApp::spawn().await.expect("app");
    let mut client = app.client("demo.localhost");
    for _ in 0..5 {
        assert_problem(
            client.login_staff("owner@demo.example", "guess").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    assert_problem(
        client.login_staff("owner@demo.example", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    )
    .await;
    // The lock is per account on its ISP: others still sign in.
    json_body(
        app.client("demo.localhost")
            .login_staff("agent@demo.example", PASSWORD)
            .await,
        StatusCode::OK,
    )
    .await;
    json_body(
        app.client("northnet.localhost")
            .login_staff("owner@northnet.example", PASSWORD)
            .await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn subscribers_cannot_use_the_console_and_staff_cannot_use_the_portal() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber("demo.localhost", "100001").await;
    assert_problem(
        sub.get("/api/v1/console/tickets").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let staff = app.staff("demo.localhost", "owner@demo.example").await;
    assert_problem(
        staff.get("/api/v1/me/dashboard").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // Staff sign-in is refused on the operator host and operator sign-in on an ISP host.
    assert_problem(
        app.client("admin.localhost")
            .login_staff("owner@demo.example", PASSWORD)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.client("demo.localhost")
            .login_operator("operator@kabinet.example", PASSWORD)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn staff_session_lists_roles_and_permissions() {
    let app = TestApp::spawn().await.expect("app");
    let mut viewer = app.client("demo.localhost");
    let session = json_body(
        viewer.login_staff("viewer@demo.example", PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(session["roles"], json!(["read_only"]));
    let permissions: Vec<&str> = session["permissions"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(permissions.contains(&"tickets.read"));
    assert!(!permissions.contains(&"tickets.reply"));
}

#[tokio::test]
async fn a_read_only_staff_member_cannot_reply_and_an_agent_can_with_an_audit_entry() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber("demo.localhost", "100001").await;
    let ticket = sub.open_ticket("speed", "Slow", "Evenings").await;
    let id = ticket["id"].as_str().expect("id");
    let path = format!("/api/v1/console/tickets/{id}/replies");

    let viewer = app.staff("demo.localhost", "viewer@demo.example").await;
    json_body(
        viewer.get(&format!("/api/v1/console/tickets/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        viewer.post(&path, &json!({"body": "I should not"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    json_body(
        agent.post(&path, &json!({"body": "On it"})).await,
        StatusCode::CREATED,
    )
    .await;

    let mut admin = app.db.admin().await.expect("admin");
    let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT a.action, s.email FROM audit_log a JOIN staff s ON s.tenant_id = a.tenant_id AND s.id = a.staff_id",
    )
    .fetch_all(&mut admin)
    .await
    .expect("audit");
    assert_eq!(
        audited,
        vec![("ticket.reply".to_owned(), "agent@demo.example".to_owned())]
    );
    let thread = json_body(
        sub.get(&format!("/api/v1/me/tickets/{id}")).await,
        StatusCode::OK,
    )
    .await;
    let bodies: Vec<&str> = thread["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(bodies, vec!["Evenings", "On it"]);
}

#[tokio::test]
async fn signing_out_ends_the_session_and_signing_out_everywhere_ends_them_all() {
    let app = TestApp::spawn().await.expect("app");
    let phone = app.subscriber("demo.localhost", "100001").await;
    let laptop = app.subscriber("demo.localhost", "100001").await;
    let tablet = app.subscriber("demo.localhost", "100001").await;

    let resp = phone.post("/api/v1/auth/logout", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_problem(
        phone.get("/api/v1/me/dashboard").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    json_body(laptop.get("/api/v1/me/dashboard").await, StatusCode::OK).await;

    let resp = laptop
        .post("/api/v1/auth/logout-everywhere", &json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_problem(
        laptop.get("/api/v1/me/dashboard").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_problem(
        tablet.get("/api/v1/me/dashboard").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn the_operator_signs_in_on_the_platform_host_and_lists_tenants() {
    let app = TestApp::spawn().await.expect("app");
    let mut op = app.client("admin.localhost");
    let session = json_body(
        op.login_operator("operator@kabinet.example", PASSWORD)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(session["kind"], "operator");
    let tenants = json_body(op.get("/api/v1/platform/tenants").await, StatusCode::OK).await;
    let slugs: Vec<&str> = tenants["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["slug"].as_str())
        .collect();
    assert_eq!(slugs, vec!["demo", "northnet"]);
    // A tenant staff session is no operator session.
    let staff = app.staff("demo.localhost", "owner@demo.example").await;
    assert_problem(
        staff.get("/api/v1/platform/tenants").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn deactivated_staff_lose_their_sessions_at_once() {
    let app = TestApp::spawn().await.expect("app");
    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    json_body(agent.get("/api/v1/console/tickets").await, StatusCode::OK).await;
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE staff SET active = false WHERE email = 'agent@demo.example'")
        .execute(&mut admin)
        .await
        .expect("deactivate");
    assert_problem(
        agent.get("/api/v1/console/tickets").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn changing_the_password_checks_the_old_one_and_ends_other_sessions() {
    let app = TestApp::spawn().await.expect("app");
    let laptop = app.subscriber("demo.localhost", "100001").await;
    let phone = app.subscriber("demo.localhost", "100001").await;
    let sessions = json_body(laptop.get("/api/v1/me/sessions").await, StatusCode::OK).await;
    let items = sessions["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);

    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    assert_problem(
        laptop
            .post(
                "/api/v1/me/password",
                &change("wrong", "a much better secret"),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_current_password",
    )
    .await;
    assert_problem(
        laptop
            .post("/api/v1/me/password", &change(PASSWORD, "short"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "weak_password",
    )
    .await;
    assert_problem(
        laptop
            .post(
                "/api/v1/me/password",
                &change(PASSWORD, "IVAN.PETROV@example.com"),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "weak_password",
    )
    .await;
    let changed = json_body(
        laptop
            .post(
                "/api/v1/me/password",
                &change(PASSWORD, "a much better secret"),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["sessions_ended"], 1);
    json_body(laptop.get("/api/v1/me/dashboard").await, StatusCode::OK).await;
    assert_problem(
        phone.get("/api/v1/me/dashboard").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_problem(
        app.client("demo.localhost")
            .login_subscriber("100001", PASSWORD)
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    json_body(
        app.client("demo.localhost")
            .login_subscriber("100001", "a much better secret")
            .await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn a_subscriber_signs_out_one_device_but_cannot_touch_anyone_elses() {
    let app = TestApp::spawn().await.expect("app");
    let laptop = app.subscriber("demo.localhost", "100001").await;
    let phone = app.subscriber("demo.localhost", "100001").await;
    let other = app.subscriber("demo.localhost", "100002").await;
    let other_sessions = json_body(other.get("/api/v1/me/sessions").await, StatusCode::OK).await;
    let other_id = other_sessions["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_problem(
        laptop
            .delete(&format!("/api/v1/me/sessions/{other_id}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    json_body(other.get("/api/v1/me/dashboard").await, StatusCode::OK).await;

    let mine = json_body(laptop.get("/api/v1/me/sessions").await, StatusCode::OK).await;
    let current_id = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["current"] == true)
        .and_then(|s| s["id"].as_str())
        .expect("current session")
        .to_owned();
    assert_problem(
        laptop
            .delete(&format!("/api/v1/me/sessions/{current_id}"))
            .await,
        StatusCode::CONFLICT,
        "current_session",
    )
    .await;
    let phone_id = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["id"].as_str())
        .expect("phone session")
        .to_owned();
    assert_eq!(
        laptop
            .delete(&format!("/api/v1/me/sessions/{phone_id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(
        phone.get("/api/v1/me/dashboard").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    json_body(laptop.get("/api/v1/me/dashboard").await, StatusCode::OK).await;
}
