//! Live ticket updates (SSE): a reply reaches the subscriber's open stream, an internal note
//! never does (but reaches staff), streams open only on one's own ticket of one's own ISP,
//! changes made through another node arrive, and a stream ends with its session or permission.

use std::time::Duration;

use kabinet_tests::{Client, PASSWORD, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

use crate::staff_roles::staff_id;

const HOST: &str = "demo.localhost";
const WAIT: Duration = Duration::from_secs(10);

/// An open event stream, read chunk by chunk.
struct Sse {
    resp: reqwest::Response,
    buf: String,
}

impl Sse {
    async fn open(http: &reqwest::Client, url: &str) -> Self {
        let resp = http.get(url).send().await.expect("request");
        assert_eq!(resp.status(), StatusCode::OK, "stream {url}");
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Self {
            resp,
            buf: String::new(),
        }
    }

    async fn of(client: &Client, path: &str) -> Self {
        Self::open(client.raw(), &client.url(path)).await
    }

    /// The next event's data, skipping `:` keep-alive comments. `Err(true)` when the stream
    /// ended, `Err(false)` when nothing came within `wait`.
    async fn next_within(&mut self, wait: Duration) -> Result<Value, bool> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let data: Vec<&str> = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if !data.is_empty() {
                    return Ok(serde_json::from_str(&data.join("\n")).expect("JSON data"));
                }
                continue;
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None) | Err(_)) => return Err(true),
                Err(_) => return Err(false),
            }
        }
    }

    async fn next(&mut self) -> Value {
        self.next_within(WAIT)
            .await
            .unwrap_or_else(|ended| panic!("no event (stream ended: {ended})"))
    }

    /// Events until (and including) the first of `kind`; all of them.
    async fn until(&mut self, kind: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let event = self.next().await;
            let done = event["kind"] == kind;
            seen.push(event);
            if done {
                return seen;
            }
        }
    }
}

async fn reply(staff: &Client, ticket: &str, body: &str) {
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{ticket}/replies"),
                &json!({"body": body}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
}

async fn note(staff: &Client, ticket: &str, body: &str) {
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{ticket}/notes"),
                &json!({"body": body}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
}

async fn open_ticket(sub: &Client, subject: &str) -> String {
    let t = sub.open_ticket("connectivity", subject, "Нет связи").await;
    t["id"].as_str().expect("id").to_owned()
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn a_reply_reaches_the_subscriber_live_and_an_internal_note_never_does() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let staff = app.staff(HOST, "agent@demo.example").await;
    let id = open_ticket(&sub, "Live: reply").await;
    let other = open_ticket(&sub, "Live: another ticket").await;

    let mut mine = Sse::of(&sub, &format!("/api/v1/me/tickets/{id}/live")).await;
    let mut all_mine = Sse::of(&sub, "/api/v1/me/live").await;
    let mut desk = Sse::of(&staff, &format!("/api/v1/console/tickets/{id}/live")).await;
    let mut queue = Sse::of(&staff, "/api/v1/console/tickets/live").await;

    reply(&staff, &id, "Перезагрузите роутер").await;
    let seen = mine.until("message").await;
    assert!(
        seen.iter().all(|e| e["ticket_id"] == id.as_str()),
        "{seen:?}"
    );
    assert_eq!(seen.last().expect("message")["ticket_id"], id.as_str());
    all_mine.until("message").await;
    desk.until("message").await;
    queue.until("message").await;

    // A note, then a public reply: the subscriber's streams get the reply and nothing before
    // it but public changes; the staff streams get the note.
    note(&staff, &id, "Internal: line card faulty").await;
    reply(&staff, &id, "Мастер приедет завтра").await;
    for stream in [&mut mine, &mut all_mine] {
        let seen = stream.until("message").await;
        for kind in kinds(&seen) {
            assert!(
                matches!(kind, "status" | "message"),
                "a subscriber got {kind}: {seen:?}"
            );
        }
    }
    let seen = desk.until("message").await;
    assert!(kinds(&seen).contains(&"note"), "{seen:?}");
    let seen = queue.until("message").await;
    assert!(kinds(&seen).contains(&"note"), "{seen:?}");

    // A desk change (the priority: a ticket event) reaches the staff streams once, and never a
    // subscriber's: the reply after it is the next thing they hear.
    json_body(
        staff
            .put(
                &format!("/api/v1/console/tickets/{id}/priority"),
                &json!({"priority": "urgent"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    reply(&staff, &id, "Приоритет повышен").await;
    for stream in [&mut mine, &mut all_mine] {
        let seen = stream.until("message").await;
        assert!(
            !kinds(&seen).contains(&"event"),
            "a subscriber got {seen:?}"
        );
    }
    for stream in [&mut desk, &mut queue] {
        let seen = stream.until("message").await;
        assert_eq!(
            kinds(&seen).iter().filter(|k| **k == "event").count(),
            1,
            "{seen:?}"
        );
    }

    // The subscriber's own message on their other ticket: the one-ticket stream stays quiet,
    // the all-tickets stream and the queue hear it.
    json_body(
        sub.post(
            &format!("/api/v1/me/tickets/{other}/messages"),
            &json!({"body": "И ещё вопрос"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let event = all_mine.until("message").await;
    assert_eq!(event.last().expect("message")["ticket_id"], other.as_str());
    let event = queue.until("message").await;
    assert_eq!(event.last().expect("message")["ticket_id"], other.as_str());
    reply(&staff, &id, "Проверка").await;
    let seen = mine.until("message").await;
    assert!(
        seen.iter().all(|e| e["ticket_id"] == id.as_str()),
        "{seen:?}"
    );

    // Only ids and a kind: no text of the thread travels in an event.
    let text = serde_json::to_string(&seen).expect("json");
    assert!(!text.contains("Проверка"), "{text}");
}

#[tokio::test]
async fn streams_open_only_on_ones_own_ticket_of_ones_own_isp() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let id = open_ticket(&sub, "Live: private").await;
    let path = format!("/api/v1/me/tickets/{id}/live");

    let neighbour = app.subscriber(HOST, "100002").await;
    assert_problem(
        neighbour.get(&path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let north = app.subscriber("northnet.localhost", "200001").await;
    assert_problem(north.get(&path).await, StatusCode::NOT_FOUND, "not_found").await;
    let north_staff = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    assert_problem(
        north_staff
            .get(&format!("/api/v1/console/tickets/{id}/live"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let unknown = uuid::Uuid::now_v7();
    assert_problem(
        sub.get(&format!("/api/v1/me/tickets/{unknown}/live")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // No session: 401; a subscriber's session is no staff session.
    let anonymous = app.client(HOST);
    assert_eq!(
        anonymous.get(&path).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sub.get("/api/v1/console/tickets/live").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A demo event never reaches NorthNet's queue: northnet's stream stays quiet while demo's
    // hears the reply.
    let mut north_queue = Sse::of(&north_staff, "/api/v1/console/tickets/live").await;
    let staff = app.staff(HOST, "owner@demo.example").await;
    let mut demo_queue = Sse::of(&staff, "/api/v1/console/tickets/live").await;
    reply(&staff, &id, "Ответ").await;
    demo_queue.until("message").await;
    assert_eq!(
        north_queue.next_within(Duration::from_secs(2)).await,
        Err(false)
    );

    // Staff without tickets.read: 403.
    let role = json_body(
        staff
            .post(
                "/api/v1/console/roles",
                &json!({"name": "Auditor only", "permissions": ["audit.read"]}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let viewer = staff_id(&staff, "viewer@demo.example").await;
    json_body(
        staff
            .put(
                &format!("/api/v1/console/staff/{viewer}/role"),
                &json!({"kind": "custom", "id": role["id"]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let auditor = app.staff(HOST, "viewer@demo.example").await;
    assert_problem(
        auditor.get("/api/v1/console/tickets/live").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        auditor
            .get(&format!("/api/v1/console/tickets/{id}/live"))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_change_made_through_another_node_reaches_the_stream() {
    let app = TestApp::spawn().await.expect("app");
    let node_b = app.second_node().await.expect("node b");
    let sub = app.subscriber(HOST, "100001").await;
    let id = open_ticket(&sub, "Live: two nodes").await;
    let mut stream = Sse::of(&sub, &format!("/api/v1/me/tickets/{id}/live")).await;
    let staff_on_b = node_b.staff(HOST, "agent@demo.example").await;
    let mut queue_on_b = Sse::of(&staff_on_b, "/api/v1/console/tickets/live").await;

    reply(&staff_on_b, &id, "С другого узла").await;
    stream.until("message").await;
    // And the other way round: the subscriber writes through node A, node B's queue hears it.
    queue_on_b.until("message").await;
    json_body(
        sub.post(
            &format!("/api/v1/me/tickets/{id}/messages"),
            &json!({"body": "Спасибо"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let seen = queue_on_b.until("message").await;
    assert_eq!(seen.last().expect("message")["ticket_id"], id.as_str());
}

/// A client without the harness's 30-second request timeout (streams outlive it here).
async fn long_lived(app: &TestApp, login_path: &str, body: Value) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .resolve(HOST, app.addr)
        .build()
        .expect("client");
    let resp = http
        .post(format!("http://{HOST}:{}{login_path}", app.addr.port()))
        .json(&body)
        .send()
        .await
        .expect("login");
    let login = json_body(resp, StatusCode::OK).await;
    let csrf = login["csrf_token"].as_str().expect("csrf").to_owned();
    (http, csrf)
}

#[tokio::test]
async fn a_stream_ends_with_its_session_or_its_permission() {
    let app = TestApp::spawn().await.expect("app");
    let base = format!("http://{HOST}:{}", app.addr.port());
    let (sub, csrf) = long_lived(
        &app,
        "/api/v1/auth/subscriber/login",
        json!({"login": "100001", "password": PASSWORD}),
    )
    .await;
    let (viewer, _) = long_lived(
        &app,
        "/api/v1/auth/staff/login",
        json!({"email": "viewer@demo.example", "password": PASSWORD}),
    )
    .await;
    let mut sub_stream = Sse::open(&sub, &format!("{base}/api/v1/me/live")).await;
    let mut viewer_stream =
        Sse::open(&viewer, &format!("{base}/api/v1/console/tickets/live")).await;

    // The subscriber signs out; the viewer loses tickets.read.
    let resp = sub
        .post(format!("{base}/api/v1/auth/logout"))
        .header("x-csrf-token", csrf)
        .json(&json!({}))
        .send()
        .await
        .expect("logout");
    assert!(resp.status().is_success(), "{}", resp.status());
    let owner = app.staff(HOST, "owner@demo.example").await;
    let role = json_body(
        owner
            .post(
                "/api/v1/console/roles",
                &json!({"name": "No tickets", "permissions": ["audit.read"]}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let viewer_id = staff_id(&owner, "viewer@demo.example").await;
    json_body(
        owner
            .put(
                &format!("/api/v1/console/staff/{viewer_id}/role"),
                &json!({"kind": "custom", "id": role["id"]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;

    // Both streams end at their next check (every 30 s), keep-alives aside.
    let limit = Duration::from_secs(45);
    assert_eq!(sub_stream.next_within(limit).await, Err(true));
    assert_eq!(viewer_stream.next_within(limit).await, Err(true));
}
