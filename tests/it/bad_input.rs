//! Bad input gets a clear 4xx problem, never a 500, and writes nothing.

use kabinet_tests::{PASSWORD, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;

#[tokio::test]
async fn malformed_and_mistyped_bodies_are_400_problems() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber("demo.localhost", "100001").await;
    let token = sub.csrf.clone().expect("csrf");
    let post = |body: &'static str, content_type: &'static str| {
        sub.raw()
            .post(sub.url("/api/v1/me/tickets"))
            .header("x-csrf-token", &token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_problem(
        post("{not json", "application/json").await.expect("req"),
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    assert_problem(
        post(
            r#"{"category": 5, "subject": "x", "description": "y"}"#,
            "application/json",
        )
        .await
        .expect("req"),
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    assert_problem(
        post(
            r#"{"category": "teleportation", "subject": "x", "description": "y"}"#,
            "application/json",
        )
        .await
        .expect("req"),
        // Well-formed, but not one of this ISP's categories (each ISP edits its own list).
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_category",
    )
    .await;
    // A number or a boolean is not a string, whatever lenient parsers think.
    let numbers = json!({"category": "other", "subject": 5, "description": true});
    assert_problem(
        sub.post("/api/v1/me/tickets", &numbers).await,
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    let too_long = json!({"category": "other", "subject": "x".repeat(201), "description": "y"});
    assert_problem(
        sub.post("/api/v1/me/tickets", &too_long).await,
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    let blank = json!({"category": "other", "subject": "   ", "description": "y"});
    assert_problem(
        sub.post("/api/v1/me/tickets", &blank).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    let resp = post("category=other", "application/x-www-form-urlencoded")
        .await
        .expect("req");
    assert!(resp.status().is_client_error(), "{}", resp.status());
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("application/problem+json")
    );

    assert_eq!(
        json_body(sub.get("/api/v1/me/tickets").await, StatusCode::OK).await["items"],
        json!([])
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber("demo.localhost", "100001").await;
    let huge =
        json!({"category": "other", "subject": "big", "description": "x".repeat(2 * 1024 * 1024)});
    assert_problem(
        sub.post("/api/v1/me/tickets", &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    // A chunked body without Content-Length is held to the same limit.
    let chunks = futures_stream(3 * 1024 * 1024);
    let resp = sub
        .raw()
        .post(sub.url("/api/v1/me/tickets"))
        .header("x-csrf-token", sub.csrf.clone().expect("csrf"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("request");
    assert_problem(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

fn futures_stream(
    total: usize,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let chunk = vec![b' '; 64 * 1024];
    let count = total / chunk.len();
    tokio_stream::iter((0..count).map(move |_| Ok(chunk.clone())))
}

#[tokio::test]
async fn unknown_routes_ids_parameters_and_methods_are_4xx_problems() {
    let app = TestApp::spawn().await.expect("app");
    let staff = app.staff("demo.localhost", "owner@demo.example").await;
    assert_problem(
        staff.get("/api/v1/nothing-here").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        staff.get("/api/nothing").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        staff.get("/api/v1/console/tickets/not-a-uuid").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    assert_problem(
        staff.get("/api/v1/console/tickets?limit=0").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    assert_problem(
        staff.get("/api/v1/console/tickets?status=nonsense").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    assert_problem(
        staff.get("/api/v1/console/tickets?after=garbage").await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    )
    .await;
    let resp = staff
        .raw()
        .delete(staff.url("/api/v1/site"))
        .send()
        .await
        .expect("request");
    assert_problem(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn a_request_without_a_session_is_401_on_every_protected_route() {
    let app = TestApp::spawn().await.expect("app");
    let anon = app.client("demo.localhost");
    for path in [
        "/api/v1/session",
        "/api/v1/me/dashboard",
        "/api/v1/me/tickets",
        "/api/v1/console/tickets",
    ] {
        assert_problem(
            anon.get(path).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
    }
    let garbage = anon
        .raw()
        .get(anon.url("/api/v1/me/dashboard"))
        .header("cookie", "kabinet_session=%%%garbage")
        .send()
        .await
        .expect("request");
    assert_problem(garbage, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn control_characters_in_sign_in_names_are_refused_cleanly() {
    let app = TestApp::spawn().await.expect("app");
    let mut client = app.client("demo.localhost");
    assert_problem(
        client.login_subscriber("a\u{0}b", "x").await,
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    assert_problem(
        client.login_staff("a\u{0}b@x", "x").await,
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    // The real account is not locked by that noise.
    json_body(
        client.login_subscriber("100001", PASSWORD).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn control_characters_are_refused_in_subjects_but_line_breaks_kept_in_messages() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber("demo.localhost", "100001").await;
    let bell = json!({"category": "other", "subject": "ring\u{7}", "description": "x"});
    assert_problem(
        sub.post("/api/v1/me/tickets", &bell).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    let ticket = sub
        .open_ticket("other", "Two lines", "first\nsecond\tindented")
        .await;
    assert_eq!(ticket["messages"][0]["body"], "first\nsecond\tindented");
}
