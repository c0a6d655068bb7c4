//! The skeleton's ticket flow across both audiences and both ISPs.

use kabinet_tests::{PASSWORD, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;

#[tokio::test]
async fn a_subscriber_opens_a_ticket_staff_reply_and_the_subscriber_sees_the_reply() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber("demo.localhost", "100001").await;
    let created = sub
        .open_ticket("connectivity", "  Нет интернета  ", "С утра не работает")
        .await;
    assert_eq!(created["subject"], "Нет интернета");
    assert_eq!(created["status"], "new");
    assert_eq!(created["number"], 1);
    let id = created["id"].as_str().expect("id").to_owned();
    let dashboard = json_body(sub.get("/api/v1/me/dashboard").await, StatusCode::OK).await;
    assert_eq!(dashboard["open_tickets"], 1);

    let staff = app.staff("demo.localhost", "owner@demo.example").await;
    let queue = json_body(staff.get("/api/v1/console/tickets").await, StatusCode::OK).await;
    assert_eq!(queue["items"][0]["id"], id.as_str());
    assert_eq!(queue["items"][0]["subscriber_name"], "Иван Петров");
    assert_eq!(queue["items"][0]["account_number"], "100001");
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{id}/replies"),
                &json!({"body": "Проверяем линию"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;

    let thread = json_body(
        sub.get(&format!("/api/v1/me/tickets/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(thread["status"], "waiting_on_customer");
    let messages = thread["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["author_kind"], "staff");
    assert_eq!(messages[1]["author_name"], "Ольга Владимирова");
    assert_eq!(messages[1]["body"], "Проверяем линию");

    json_body(
        sub.post(
            &format!("/api/v1/me/tickets/{id}/messages"),
            &json!({"body": "Спасибо"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let thread = json_body(
        staff.get(&format!("/api/v1/console/tickets/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(thread["status"], "open");
    assert_eq!(thread["messages"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn another_isps_ticket_is_simply_not_found() {
    let app = TestApp::spawn().await.expect("app");
    let demo = app.subscriber("demo.localhost", "100001").await;
    let ticket = demo.open_ticket("other", "Demo only", "x").await;
    let id = ticket["id"].as_str().expect("id");

    let mut north_staff = app.client("northnet.localhost");
    json_body(
        north_staff
            .login_staff("owner@northnet.example", PASSWORD)
            .await,
        StatusCode::OK,
    )
    .await;
    let queue = json_body(
        north_staff.get("/api/v1/console/tickets").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queue["items"], json!([]));
    let foreign = assert_problem(
        north_staff
            .get(&format!("/api/v1/console/tickets/{id}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let missing = assert_problem(
        north_staff
            .get(&format!("/api/v1/console/tickets/{}", uuid::Uuid::now_v7()))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        foreign, missing,
        "a foreign id must be indistinguishable from a missing one"
    );
    assert_problem(
        north_staff
            .post(
                &format!("/api/v1/console/tickets/{id}/replies"),
                &json!({"body": "hi"}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Another subscriber of the same ISP cannot read it either.
    let other = app.subscriber("demo.localhost", "100002").await;
    assert_problem(
        other.get(&format!("/api/v1/me/tickets/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        json_body(other.get("/api/v1/me/tickets").await, StatusCode::OK).await["items"],
        json!([])
    );
}

#[tokio::test]
async fn the_queue_pages_by_keyset_without_gaps_or_repeats() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber("demo.localhost", "100001").await;
    for i in 0..7 {
        sub.open_ticket("other", &format!("T{i}"), "x").await;
    }
    let staff = app.staff("demo.localhost", "agent@demo.example").await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/console/tickets?limit=3".to_owned();
    loop {
        let page = json_body(staff.get(&path).await, StatusCode::OK).await;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 3);
        seen.extend(
            items
                .iter()
                .filter_map(|t| t["subject"].as_str().map(str::to_owned)),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/console/tickets?limit=3&after={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, vec!["T6", "T5", "T4", "T3", "T2", "T1", "T0"]);
    let filtered = json_body(
        staff.get("/api/v1/console/tickets?status=closed").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(filtered["items"], json!([]));
}
