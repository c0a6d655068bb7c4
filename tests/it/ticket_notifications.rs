//! Ticket notifications through the real (in-process) SMTP server: a staff reply and a status
//! change reach the subscriber once, in their language, with the link to the ticket; internal
//! notes tell nobody; an overdue answer brings one polite reminder however often and wherever
//! the SLA worker runs; a mail worker dying mid-delivery loses nothing.

use chrono::{Duration, Utc};
use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_mail::Sender;
use kabinet_tests::{MailCatcher, ReceivedMail, TestApp, json, json_body, mail_settings};
use reqwest::StatusCode;

const IVAN: &str = "ivan.petrov@example.com";

async fn tenant(app: &TestApp, slug: &str) -> TenantId {
    let mut admin = app.db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_one(&mut admin)
            .await
            .expect("tenant"),
    )
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar(sql)
        .fetch_one(&mut admin)
        .await
        .expect("count")
}

/// Lets the mail worker (sweeping every second) pick up anything still queued.
async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
}

fn message_id(mail: &ReceivedMail) -> String {
    let raw = String::from_utf8_lossy(&mail.data);
    raw.lines()
        .find_map(|l| {
            l.strip_prefix("Message-ID: ")
                .or_else(|| l.strip_prefix("Message-Id: "))
        })
        .expect("Message-ID")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn a_staff_reply_reaches_the_subscriber_once_in_their_language_and_notes_reach_nobody() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let sub = app.subscriber("demo.localhost", "100001").await;
    let staff = app.staff("demo.localhost", "agent@demo.example").await;
    let ticket = sub
        .open_ticket("connectivity", "Нет интернета", "С утра")
        .await;
    let id = ticket["id"].as_str().expect("id").to_owned();
    let number = ticket["number"].as_i64().expect("number");

    // An internal note: no letter, no bell.
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{id}/notes"),
                &json!({"body": "Абонент звонил дважды, проверить порт"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let bell = json_body(sub.get("/api/v1/me/notifications").await, StatusCode::OK).await;
    assert_eq!(bell["unread"], 0);
    assert_eq!(bell["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(count(&app, "SELECT count(*) FROM mail_outbox").await, 0);

    // The reply: one letter, in Russian (the ISP's language), linking to the ticket.
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{id}/replies"),
                &json!({"body": "Перезагрузите, пожалуйста, роутер"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let letters = smtp.wait_for(IVAN, 1).await;
    let letter = &letters[0];
    assert_eq!(
        letter.subject(),
        format!("Ответ по обращению №{number} — Демо Телеком")
    );
    assert_eq!(letter.from().0.as_deref(), Some("Демо Телеком"));
    assert_eq!(letter.reply_to().as_deref(), Some("support@demo.example"));
    let text = letter.text();
    assert!(text.contains("Здравствуйте, Иван Петров!"), "{text}");
    assert!(
        text.contains("> Перезагрузите, пожалуйста, роутер"),
        "{text}"
    );
    assert!(
        text.contains(&format!("https://demo.localhost/tickets/{id}")),
        "{text}"
    );
    assert!(!text.contains("порт"), "the note never leaks: {text}");
    assert!(
        letter
            .html()
            .is_some_and(|h| h.contains(&format!("/tickets/{id}")))
    );

    // In-app: one unread notification that leads to the ticket.
    let bell = json_body(sub.get("/api/v1/me/notifications").await, StatusCode::OK).await;
    assert_eq!(bell["unread"], 1);
    assert_eq!(bell["items"][0]["kind"], "ticket_reply");
    assert_eq!(bell["items"][0]["ticket_id"], id.as_str());
    assert_eq!(bell["items"][0]["ticket_number"], number);
    assert_eq!(bell["items"][0]["read"], false);

    // The subscriber reads English: the next letter is in English.
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE subscribers SET locale = 'en' WHERE account_number = '100001'")
        .execute(&mut admin)
        .await
        .expect("locale");
    json_body(
        staff
            .put(
                &format!("/api/v1/console/tickets/{id}/status"),
                &json!({"status": "resolved"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let letters = smtp.wait_for(IVAN, 2).await;
    assert_eq!(
        letters[1].subject(),
        format!("Ticket #{number}: resolved — Демо Телеком")
    );
    assert!(letters[1].text().contains("Hello Иван Петров,"));
    // Setting the same status again is no event: nothing more.
    json_body(
        staff
            .put(
                &format!("/api/v1/console/tickets/{id}/status"),
                &json!({"status": "resolved"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;

    // Marking read, set-based; another subscriber's ids change nothing.
    let bell = json_body(sub.get("/api/v1/me/notifications").await, StatusCode::OK).await;
    assert_eq!(bell["unread"], 2);
    assert_eq!(bell["items"][0]["kind"], "ticket_status");
    assert_eq!(bell["items"][0]["status"], "resolved");
    let first = bell["items"][1]["id"].clone();
    let maria = app.subscriber("demo.localhost", "100002").await;
    let marked = json_body(
        maria
            .post("/api/v1/me/notifications/read", &json!({"ids": [first]}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(marked["marked"], 0);
    let marked = json_body(
        sub.post("/api/v1/me/notifications/read", &json!({"ids": [first]}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(marked["marked"], 1);
    assert_eq!(marked["unread"], 1);
    let marked = json_body(
        sub.post("/api/v1/me/notifications/read", &json!({"ids": null}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(marked["marked"], 1);
    assert_eq!(marked["unread"], 0);

    settle().await;
    assert_eq!(
        smtp.messages_to(IVAN).len(),
        2,
        "exactly one letter per event"
    );
    // The other ISP's subscriber saw none of it.
    let north = app.subscriber("northnet.localhost", "200001").await;
    let bell = json_body(north.get("/api/v1/me/notifications").await, StatusCode::OK).await;
    assert_eq!(bell["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn subscribers_without_an_address_get_the_bell_and_assigned_staff_hear_of_answers() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE subscribers SET email = NULL WHERE account_number = '100001'")
        .execute(&mut admin)
        .await
        .expect("no address");
    let sub = app.subscriber("demo.localhost", "100001").await;
    let staff = app.staff("demo.localhost", "agent@demo.example").await;
    let ticket = sub.open_ticket("speed", "Медленно", "10 Мбит/с").await;
    let id = ticket["id"].as_str().expect("id").to_owned();
    let agents = json_body(
        staff.get("/api/v1/console/ticket-agents").await,
        StatusCode::OK,
    )
    .await;
    let me = agents["items"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["me"] == true)
        .expect("me")["id"]
        .clone();
    json_body(
        staff
            .put(
                &format!("/api/v1/console/tickets/{id}/assignee"),
                &json!({"staff_id": me}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{id}/replies"),
                &json!({"body": "Замерьте скорость по кабелю"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let bell = json_body(sub.get("/api/v1/me/notifications").await, StatusCode::OK).await;
    assert_eq!(bell["unread"], 1);
    json_body(
        sub.post(
            &format!("/api/v1/me/tickets/{id}/messages"),
            &json!({"body": "По кабелю 95 Мбит/с"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let letters = smtp.wait_for("agent@demo.example", 1).await;
    assert!(letters[0].text().contains("По кабелю 95 Мбит/с"));
    assert!(
        letters[0]
            .text()
            .contains(&format!("https://demo.localhost/console/tickets/{id}"))
    );
    settle().await;
    // Only the agent's letter was ever queued.
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(count(&app, "SELECT count(*) FROM mail_outbox").await, 1);
}

#[tokio::test]
async fn an_overdue_answer_brings_one_reminder_however_often_and_wherever_the_worker_runs() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let sub = app.subscriber("demo.localhost", "100001").await;
    let a = sub.open_ticket("speed", "Первое", "x").await;
    let b = sub.open_ticket("speed", "Второе", "y").await;
    let demo = tenant(&app, "demo").await;
    let db = &app.db.db;
    // Both targets (first response and resolution) have passed.
    let later = Utc::now() + Duration::days(30);
    let run = || async {
        let mut tx = db.tenant_tx(demo).await.expect("tx");
        let report = kabinet_ticketing::run_scheduled(&mut tx, later)
            .await
            .expect("run");
        tx.commit().await.expect("commit");
        report
    };
    // Two nodes at once, then again, then later the same day.
    let (r1, r2) = tokio::join!(run(), run());
    let r3 = run().await;
    assert_eq!(
        r1.overdue_reminders + r2.overdue_reminders + r3.overdue_reminders,
        2,
        "{r1:?} {r2:?} {r3:?}"
    );
    let mut tx = db.tenant_tx(demo).await.expect("tx");
    let again = kabinet_ticketing::run_scheduled(&mut tx, later + Duration::hours(3))
        .await
        .expect("run");
    tx.commit().await.expect("commit");
    assert_eq!(again.overdue_reminders, 0);

    let letters = smtp.wait_for(IVAN, 2).await;
    settle().await;
    assert_eq!(smtp.messages_to(IVAN).len(), 2);
    let mut subjects: Vec<String> = letters.iter().map(ReceivedMail::subject).collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [a["number"].as_i64(), b["number"].as_i64()].map(|n| format!(
            "Мы помним о вашем обращении №{} — Демо Телеком",
            n.expect("number")
        ))
    );
    assert!(
        letters
            .iter()
            .all(|l| l.text().contains("Мы знаем об этом"))
    );
    let bell = json_body(sub.get("/api/v1/me/notifications").await, StatusCode::OK).await;
    assert_eq!(bell["unread"], 2);
    assert!(
        bell["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|n| n["kind"] == "ticket_overdue")
    );
}

#[tokio::test]
async fn a_mail_worker_killed_mid_delivery_loses_nothing() {
    // No worker of the app's own: the test plays the workers.
    let app = TestApp::spawn().await.expect("app");
    let smtp = MailCatcher::start().expect("smtp");
    let sub = app.subscriber("demo.localhost", "100001").await;
    let staff = app.staff("demo.localhost", "agent@demo.example").await;
    let ticket = sub.open_ticket("other", "Письмо", "x").await;
    let id = ticket["id"].as_str().expect("id");
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{id}/replies"),
                &json!({"body": "Ответ"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let mut admin = app.db.admin().await.expect("admin");

    // Worker 1 claims the letter (attempt counted, leased for five minutes) and dies before
    // talking SMTP.
    let claimed: i64 = sqlx::query_scalar(
        "WITH c AS (UPDATE mail_outbox SET attempts = attempts + 1, \
           next_attempt_at = now() + interval '5 minutes' WHERE status = 'queued' RETURNING 1) \
         SELECT count(*) FROM c",
    )
    .fetch_one(&mut admin)
    .await
    .expect("claim");
    assert_eq!(claimed, 1);
    // A second worker leaves the leased letter alone…
    let worker2 = Sender::new(&mail_settings(Some(smtp.smtp_url())))
        .expect("settings")
        .expect("sender");
    let pass = worker2.deliver_all(&app.db.db).await.expect("pass");
    assert_eq!(pass.sent, 0);
    assert!(smtp.messages().is_empty());
    // …and sends it once the lease has run out.
    sqlx::query("UPDATE mail_outbox SET next_attempt_at = now()")
        .execute(&mut admin)
        .await
        .expect("lease over");
    let pass = worker2.deliver_all(&app.db.db).await.expect("pass");
    assert_eq!(pass.sent, 1);
    let first = smtp.wait_for(IVAN, 1).await;
    assert_eq!(worker2.deliver_all(&app.db.db).await.expect("pass").sent, 0);
    assert_eq!(smtp.messages_to(IVAN).len(), 1);

    // The other crash: SMTP accepted the letter but the worker died before recording it. The
    // row is still leased-queued, so a later worker sends it again: delivery is at-least-once,
    // and the repeat carries the same Message-ID for the receiving side to drop.
    sqlx::query(
        "UPDATE mail_outbox SET status = 'queued', sent_at = NULL, next_attempt_at = now()",
    )
    .execute(&mut admin)
    .await
    .expect("unrecorded send");
    let worker3 = Sender::new(&mail_settings(Some(smtp.smtp_url())))
        .expect("settings")
        .expect("sender");
    assert_eq!(worker3.deliver_all(&app.db.db).await.expect("pass").sent, 1);
    let both = smtp.wait_for(IVAN, 2).await;
    assert_eq!(message_id(&both[0]), message_id(&first[0]));
    assert_eq!(message_id(&both[1]), message_id(&first[0]));
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM mail_outbox")
        .fetch_one(&mut admin)
        .await
        .expect("attempts");
    assert_eq!(attempts, 3);
}
