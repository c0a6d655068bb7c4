//! Canned replies (placeholders filled per ticket, unknown ones refused when saved) and merging
//! duplicate tickets (everything moves, same subscriber only, safe under concurrency), with
//! permissions and tenant isolation.

use kabinet_db::sqlx;
use kabinet_tests::{Client, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

const HOST: &str = "demo.localhost";
const OTHER: &str = "northnet.localhost";

/// Rows in this module's tables for the isolation test: a canned reply and a merge.
pub async fn seed_tools(staff: &Client, subscriber: &Client) {
    create(
        staff,
        &json!({"title": "Seed", "body": "Hello, {{subscriber.name}}", "category": "seed"}),
    )
    .await;
    let a = open(subscriber, "Seed duplicate").await;
    let b = open(subscriber, "Seed original").await;
    json_body(merge(staff, &a, &b).await, StatusCode::OK).await;
}

/// A ticket as the tests name it: its id for URLs, its number for merges.
struct Opened {
    id: String,
    number: i64,
}

impl std::fmt::Display for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)
    }
}

async fn open(sub: &Client, subject: &str) -> Opened {
    let t = sub
        .open_ticket("connectivity", subject, "Нет интернета")
        .await;
    Opened {
        id: t["id"].as_str().expect("id").to_owned(),
        number: t["number"].as_i64().expect("number"),
    }
}

async fn create(staff: &Client, body: &Value) -> Value {
    json_body(
        staff.post("/api/v1/console/canned-replies", body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn render(staff: &Client, ticket: &Opened, reply: &str) -> reqwest::Response {
    staff
        .get(&format!(
            "/api/v1/console/tickets/{ticket}/canned-replies/{reply}"
        ))
        .await
}

async fn merge(staff: &Client, source: &Opened, into: &Opened) -> reqwest::Response {
    staff
        .post(
            &format!("/api/v1/console/tickets/{}/merge", source.id),
            &json!({ "into_ticket_number": into.number }),
        )
        .await
}

async fn staff_view(staff: &Client, id: &Opened) -> Value {
    json_body(
        staff.get(&format!("/api/v1/console/tickets/{id}")).await,
        StatusCode::OK,
    )
    .await
}

fn len(v: &Value, key: &str) -> usize {
    v[key].as_array().map_or(0, Vec::len)
}

async fn audit_actions(app: &TestApp, prefix: &str) -> Vec<String> {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar("SELECT action FROM audit_log WHERE action LIKE $1 || '%' ORDER BY seq")
        .bind(prefix)
        .fetch_all(&mut admin)
        .await
        .expect("audit")
}

#[tokio::test]
async fn a_canned_reply_is_filled_in_for_the_ticket_and_managed_with_an_audit_trail() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let agent = app.staff(HOST, "agent@demo.example").await;
    let ticket = sub
        .open_ticket("payments", "Списание", "Почему списали?")
        .await;
    let number = ticket["number"].as_i64().expect("number");
    let id = &Opened {
        id: ticket["id"].as_str().expect("id").to_owned(),
        number,
    };

    let reply = create(
        &agent,
        &json!({
            "title": "Баланс",
            "body": "Здравствуйте, {{subscriber.name}}! На счёте {{ account.number }} сейчас \
                     {{account.balance}}. Обращение №{{ticket.number}} «{{ticket.subject}}». — {{agent.name}}",
            "category": "  Оплата ",
        }),
    )
    .await;
    assert_eq!(reply["category"], "оплата");
    let reply_id = reply["id"].as_str().expect("id");
    let rendered = json_body(render(&agent, id, reply_id).await, StatusCode::OK).await;
    assert_eq!(
        rendered["text"],
        format!(
            "Здравствуйте, Иван Петров! На счёте 100001 сейчас 1250.50 RUB. \
             Обращение №{number} «Списание». — Сергей Агентов"
        )
    );

    // The picker: search in title and body, filter by category; the placeholders are listed.
    create(
        &agent,
        &json!({"title": "Спасибо", "body": "Спасибо за обращение!"}),
    )
    .await;
    let all = json_body(
        agent.get("/api/v1/console/canned-replies").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(len(&all, "items"), 2);
    assert!(
        all["placeholders"]
            .as_array()
            .expect("placeholders")
            .contains(&json!("{{account.balance}}"))
    );
    let found = json_body(
        agent.get("/api/v1/console/canned-replies?q=СПАСИБО").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(found["items"][0]["title"], "Спасибо");
    assert_eq!(len(&found, "items"), 1);
    let by_category = json_body(
        agent
            .get("/api/v1/console/canned-replies?category=%D0%9E%D0%BF%D0%BB%D0%B0%D1%82%D0%B0")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(len(&by_category, "items"), 1);
    assert_eq!(by_category["items"][0]["title"], "Баланс");

    let updated = json_body(
        agent
            .put(
                &format!("/api/v1/console/canned-replies/{reply_id}"),
                &json!({"title": "Баланс", "body": "Баланс: {{account.balance}}", "category": null}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(updated.get("category").is_none(), "{updated}");
    let rendered = json_body(render(&agent, id, reply_id).await, StatusCode::OK).await;
    assert_eq!(rendered["text"], "Баланс: 1250.50 RUB");

    let deleted = agent
        .delete(&format!("/api/v1/console/canned-replies/{reply_id}"))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_problem(
        render(&agent, id, reply_id).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        audit_actions(&app, "canned.").await,
        [
            "canned.create",
            "canned.create",
            "canned.update",
            "canned.delete"
        ]
    );
}

#[tokio::test]
async fn an_unknown_or_unclosed_placeholder_is_refused_when_saved() {
    let app = TestApp::spawn().await.expect("app");
    let agent = app.staff(HOST, "agent@demo.example").await;
    let problem = assert_problem(
        agent
            .post(
                "/api/v1/console/canned-replies",
                &json!({"title": "Пароль", "body": "Ваш пароль: {{subscriber.password}}"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "unknown_placeholder",
    )
    .await;
    let detail = problem["detail"].as_str().expect("detail");
    assert!(detail.contains("{{subscriber.password}}"), "{detail}");
    assert!(detail.contains("{{subscriber.name}}"), "{detail}");
    assert_problem(
        agent
            .post(
                "/api/v1/console/canned-replies",
                &json!({"title": "Обрыв", "body": "Здравствуйте, {{subscriber.name"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "unclosed_placeholder",
    )
    .await;
    let ok = create(
        &agent,
        &json!({"title": "Привет", "body": "Привет, {{subscriber.name}}"}),
    )
    .await;
    let id = ok["id"].as_str().expect("id");
    assert_problem(
        agent
            .put(
                &format!("/api/v1/console/canned-replies/{id}"),
                &json!({"title": "Привет", "body": "{{ticket.secret}}"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "unknown_placeholder",
    )
    .await;
    assert_problem(
        agent
            .post(
                "/api/v1/console/canned-replies",
                &json!({"title": "Привет", "body": "Ещё один"}),
            )
            .await,
        StatusCode::CONFLICT,
        "canned_reply_title_taken",
    )
    .await;
    assert_problem(
        agent
            .post(
                "/api/v1/console/canned-replies",
                &json!({"title": "Плохая метка", "body": "Текст", "category": "a,b"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    // Nothing refused was stored.
    let list = json_body(
        agent.get("/api/v1/console/canned-replies").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(len(&list, "items"), 1);
    assert_eq!(list["items"][0]["body"], "Привет, {{subscriber.name}}");
}

#[tokio::test]
async fn the_read_only_role_can_neither_use_nor_manage_canned_replies_nor_merge() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let agent = app.staff(HOST, "agent@demo.example").await;
    let viewer = app.staff(HOST, "viewer@demo.example").await;
    let reply = create(&agent, &json!({"title": "Т", "body": "Текст"})).await;
    let reply_id = reply["id"].as_str().expect("id");
    let a = open(&sub, "Дубль").await;
    let b = open(&sub, "Оригинал").await;

    for resp in [
        viewer.get("/api/v1/console/canned-replies").await,
        viewer
            .post(
                "/api/v1/console/canned-replies",
                &json!({"title": "X", "body": "Y"}),
            )
            .await,
        viewer
            .put(
                &format!("/api/v1/console/canned-replies/{reply_id}"),
                &json!({"title": "X", "body": "Y"}),
            )
            .await,
        viewer
            .delete(&format!("/api/v1/console/canned-replies/{reply_id}"))
            .await,
        render(&viewer, &a, reply_id).await,
        merge(&viewer, &a, &b).await,
    ] {
        assert_problem(resp, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // The viewer may still see where a ticket stands with merges.
    let state = json_body(
        viewer
            .get(&format!("/api/v1/console/tickets/{a}/merge"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(state.get("merged_into").is_none(), "{state}");
    assert_eq!(len(&state, "merged_from"), 0);
}

#[tokio::test]
async fn another_isps_canned_replies_and_tickets_are_not_found() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let agent = app.staff(HOST, "agent@demo.example").await;
    let other_sub = app.subscriber(OTHER, "200001").await;
    let other = app.staff(OTHER, "owner@northnet.example").await;
    let reply = create(
        &agent,
        &json!({"title": "Демо", "body": "{{subscriber.name}}"}),
    )
    .await;
    let reply_id = reply["id"].as_str().expect("id");
    let a = open(&sub, "Дубль").await;
    let b = open(&sub, "Оригинал").await;
    let theirs = open(&other_sub, "Northnet").await;
    let their_reply = create(&other, &json!({"title": "North", "body": "Hi"})).await;
    let their_reply_id = their_reply["id"].as_str().expect("id");

    let list = json_body(
        other.get("/api/v1/console/canned-replies").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(len(&list, "items"), 1);
    assert_eq!(list["items"][0]["title"], "North");
    for resp in [
        render(&other, &theirs, reply_id).await,
        render(&other, &a, their_reply_id).await,
        render(&agent, &theirs, reply_id).await,
        other
            .put(
                &format!("/api/v1/console/canned-replies/{reply_id}"),
                &json!({"title": "X", "body": "Y"}),
            )
            .await,
        other
            .delete(&format!("/api/v1/console/canned-replies/{reply_id}"))
            .await,
        merge(&other, &a, &b).await,
        // Numbers are per ISP: northnet's ticket number means nothing to demo's merge.
        merge(
            &agent,
            &a,
            &Opened {
                id: theirs.id.clone(),
                number: 999_999,
            },
        )
        .await,
        other
            .get(&format!("/api/v1/console/tickets/{a}/merge"))
            .await,
        other_sub
            .get(&format!("/api/v1/me/tickets/{a}/merge"))
            .await,
    ] {
        assert_problem(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
    // Demo's reply is untouched.
    json_body(render(&agent, &a, reply_id).await, StatusCode::OK).await;
}

#[tokio::test]
async fn a_merge_moves_the_thread_notes_files_and_tags_and_closes_the_duplicate() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let agent = app.staff(HOST, "agent@demo.example").await;
    let b = open(&sub, "Оригинал").await;
    let a = open(&sub, "Дубль").await;
    json_body(
        agent
            .post(
                &format!("/api/v1/console/tickets/{a}/replies"),
                &json!({"body": "Проверяем"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    json_body(
        sub.post(
            &format!("/api/v1/me/tickets/{a}/messages"),
            &json!({"body": "Всё ещё нет"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    json_body(
        crate::attachments::post_multipart(
            &agent,
            &format!("/api/v1/console/tickets/{a}/notes"),
            &[("body", "Скриншот")],
            &[("screen.png", crate::attachments::PNG)],
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    json_body(
        agent
            .put(
                &format!("/api/v1/console/tickets/{a}/tags"),
                &json!({"tags": ["оптика", "vip"]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    json_body(
        agent
            .put(
                &format!("/api/v1/console/tickets/{b}/tags"),
                &json!({"tags": ["vip"]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let before_a = staff_view(&agent, &a).await;
    let before_b = staff_view(&agent, &b).await;
    assert_eq!(len(&before_a, "messages"), 3);
    assert_eq!(len(&before_a, "notes"), 1);
    assert_eq!(len(&before_b, "messages"), 1);

    let merged = json_body(merge(&agent, &a, &b).await, StatusCode::OK).await;
    assert_eq!(merged["moved_messages"], 3);
    assert_eq!(merged["moved_notes"], 1);
    assert_eq!(merged["moved_attachments"], 1);
    assert_eq!(merged["already_merged"], false);
    assert_eq!(merged["target"]["number"], before_b["number"]);

    let after_b = staff_view(&agent, &b).await;
    let after_a = staff_view(&agent, &a).await;
    assert_eq!(len(&after_b, "messages"), 4);
    assert_eq!(len(&after_a, "messages"), 0);
    assert_eq!(len(&after_b, "notes"), 1);
    assert_eq!(len(&after_b["notes"][0], "attachments"), 1);
    assert_eq!(after_b["tags"], json!(["vip", "оптика"]));
    assert_eq!(len(&after_a, "tags"), 0);
    // The thread stays in time order: B's own first message, then A's three.
    let times: Vec<&str> = after_b["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["created_at"].as_str().expect("time"))
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert_eq!(after_b["messages"][3]["body"], "Всё ещё нет");
    assert_eq!(after_a["status"], "closed");
    let kinds = |v: &Value| -> Vec<String> {
        v["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["kind"].as_str().expect("kind").to_owned())
            .collect()
    };
    assert!(kinds(&after_a).contains(&"merged_into".to_owned()));
    assert!(kinds(&after_b).contains(&"merged_from".to_owned()));
    let into_event = after_a["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "merged_into")
        .expect("merged_into event");
    assert_eq!(into_event["new_value"], before_b["number"].to_string());

    // The subscriber opening A sees where it went; B shows the whole thread (no notes).
    let state = json_body(
        sub.get(&format!("/api/v1/me/tickets/{a}/merge")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(state["merged_into"]["id"], b.id.as_str());
    assert_eq!(state["merged_into"]["number"], before_b["number"]);
    let mine_a = json_body(
        sub.get(&format!("/api/v1/me/tickets/{a}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine_a["status"], "closed");
    // A merged duplicate is not rated: the ticket it went into is.
    let rating = json_body(
        sub.get(&format!("/api/v1/me/tickets/{a}/rating")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rating["can_rate"], false, "{rating}");
    assert_problem(
        sub.put(
            &format!("/api/v1/me/tickets/{a}/rating"),
            &json!({"score": 5}),
        )
        .await,
        StatusCode::CONFLICT,
        "ticket_merged",
    )
    .await;
    let mine_b = json_body(
        sub.get(&format!("/api/v1/me/tickets/{b}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(len(&mine_b, "messages"), 4);
    assert!(mine_b.get("notes").is_none_or(|n| n == &json!([])));
    let state_b = json_body(
        agent
            .get(&format!("/api/v1/console/tickets/{b}/merge"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(state_b["merged_from"][0]["id"], a.id.as_str());

    // A retry is a no-op; the refusals.
    let again = json_body(merge(&agent, &a, &b).await, StatusCode::OK).await;
    assert_eq!(again["already_merged"], true);
    assert_eq!(again["moved_messages"], 0);
    assert_problem(
        merge(&agent, &b, &b).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "merge_same_ticket",
    )
    .await;
    assert_problem(
        merge(&agent, &b, &a).await,
        StatusCode::CONFLICT,
        "merge_target_merged",
    )
    .await;
    let c = open(&sub, "Третий").await;
    assert_problem(
        merge(&agent, &a, &c).await,
        StatusCode::CONFLICT,
        "ticket_already_merged",
    )
    .await;
    json_body(
        agent
            .put(
                &format!("/api/v1/console/tickets/{c}/status"),
                &json!({"status": "closed"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        merge(&agent, &b, &c).await,
        StatusCode::CONFLICT,
        "merge_target_closed",
    )
    .await;
    assert_eq!(audit_actions(&app, "ticket.merge").await, ["ticket.merge"]);
}

#[tokio::test]
async fn tickets_of_different_subscribers_never_merge() {
    let app = TestApp::spawn().await.expect("app");
    let ivan = app.subscriber(HOST, "100001").await;
    let maria = app.subscriber(HOST, "100002").await;
    let agent = app.staff(HOST, "agent@demo.example").await;
    let a = open(&ivan, "Иван").await;
    let b = open(&maria, "Мария").await;
    let problem = assert_problem(
        merge(&agent, &a, &b).await,
        StatusCode::CONFLICT,
        "merge_different_subscribers",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("different subscribers")
    );
    assert_eq!(len(&staff_view(&agent, &a).await, "messages"), 1);
    assert_eq!(len(&staff_view(&agent, &b).await, "messages"), 1);
    assert_ne!(staff_view(&agent, &a).await["status"], "closed");
    // Maria can't learn anything about Ivan's ticket.
    assert_problem(
        maria.get(&format!("/api/v1/me/tickets/{a}/merge")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn concurrent_merges_of_a_pair_leave_one_consistent_result() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let agent = app.staff(HOST, "agent@demo.example").await;
    let owner = app.staff(HOST, "owner@demo.example").await;
    for _ in 0..3 {
        let a = open(&sub, "A").await;
        let b = open(&sub, "B").await;
        // A→B and B→A at once: one wins, the other is refused (its target is merged).
        let (ab, ba) = tokio::join!(merge(&agent, &a, &b), merge(&owner, &b, &a));
        let mut statuses = [ab.status(), ba.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
        let (winner_target, loser_target) = if ab.status() == StatusCode::OK {
            (&b, &a)
        } else {
            (&a, &b)
        };
        assert_eq!(len(&staff_view(&agent, winner_target).await, "messages"), 2);
        assert_eq!(len(&staff_view(&agent, loser_target).await, "messages"), 0);

        // The same merge twice at once: both succeed, one of them moved nothing.
        let c = open(&sub, "C").await;
        let d = open(&sub, "D").await;
        let (first, second) = tokio::join!(merge(&agent, &c, &d), merge(&owner, &c, &d));
        let first = json_body(first, StatusCode::OK).await;
        let second = json_body(second, StatusCode::OK).await;
        let mut already = [
            first["already_merged"] == true,
            second["already_merged"] == true,
        ];
        already.sort();
        assert_eq!(already, [false, true]);
        assert_eq!(len(&staff_view(&agent, &d).await, "messages"), 2);
    }
    let mut admin = app.db.admin().await.expect("admin");
    let merges: i64 = sqlx::query_scalar("SELECT count(*) FROM ticket_merges")
        .fetch_one(&mut admin)
        .await
        .expect("count");
    assert_eq!(merges, 6);
}
