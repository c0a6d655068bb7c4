//! The ISP's own letter templates: an English override of the reply letter is what an
//! English-reading subscriber gets through the real SMTP server, a Russian reader keeps the
//! built-in letter; bad placeholders are refused on save and in the preview; a reset brings the
//! built-in letter back; changes are audited and need `settings.manage`.

use kabinet_db::sqlx;
use kabinet_tests::{Client, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;

const HOST: &str = "demo.localhost";
const EN_REPLY: &str = "/api/v1/console/letter-templates/ticket_reply/en";

/// A row in `letter_templates` for the isolation test.
pub async fn seed_letters(owner: &Client) {
    json_body(
        owner
            .put(
                EN_REPLY,
                &json!({"subject": "Seed #{{ticket.number}}", "body": "Hello {{subscriber.name}}"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
}

async fn reply(staff: &Client, ticket: &str, body: &str) {
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{ticket}/replies"),
                &json!({ "body": body }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
}

#[tokio::test]
async fn an_english_override_reaches_an_english_reader_and_russian_keeps_the_default() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let owner = app.staff(HOST, "owner@demo.example").await;
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE subscribers SET locale = 'en' WHERE account_number = '100001'")
        .execute(&mut admin)
        .await
        .expect("locale");

    let saved = json_body(
        owner
            .put(
                EN_REPLY,
                &json!({
                    "subject": "{{isp.name}}: we answered #{{ ticket.number }}",
                    "body": "Dear {{subscriber.name}},\n\nThere is news on \"{{ticket.subject}}\".\n\nWe are here 24/7.",
                }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(saved["customized"], true);
    let list = json_body(
        owner.get("/api/v1/console/letter-templates").await,
        StatusCode::OK,
    )
    .await;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 8, "four letters in two languages");
    let ru_reply = items
        .iter()
        .find(|i| i["kind"] == "ticket_reply" && i["language"] == "ru")
        .expect("ru reply");
    assert_eq!(ru_reply["customized"], false);
    assert!(
        ru_reply["subject"]
            .as_str()
            .is_some_and(|s| s.contains("{{ticket.number}}"))
    );

    let ivan = app.subscriber(HOST, "100001").await;
    let maria = app.subscriber(HOST, "100002").await;
    let english = ivan
        .open_ticket("connectivity", "No internet", "Since morning")
        .await;
    let russian = maria
        .open_ticket("connectivity", "Нет интернета", "С утра")
        .await;
    let (en_id, en_number) = (
        english["id"].as_str().expect("id"),
        english["number"].as_i64().expect("number"),
    );
    let (ru_id, ru_number) = (
        russian["id"].as_str().expect("id"),
        russian["number"].as_i64().expect("number"),
    );
    reply(&owner, en_id, "Please restart the <router>").await;
    reply(&owner, ru_id, "Перезагрузите роутер").await;

    let letter = &smtp.wait_for("ivan.petrov@example.com", 1).await[0];
    assert_eq!(
        letter.subject(),
        format!("Демо Телеком: we answered #{en_number}")
    );
    let text = letter.text().replace("\r\n", "\n");
    assert!(
        text.starts_with(
            "Dear Иван Петров,\n\nThere is news on \"No internet\".\n\nWe are here 24/7."
        ),
        "{text}"
    );
    // The layout still quotes the reply and links to the ticket.
    assert!(text.contains("> Please restart the <router>"), "{text}");
    assert!(
        text.contains(&format!("https://demo.localhost/tickets/{en_id}")),
        "{text}"
    );
    let html = letter.html().expect("html");
    assert!(html.contains("We are here 24/7.") && html.contains("&lt;router&gt;"));

    let letter = &smtp.wait_for("maria.smirnova@example.com", 1).await[0];
    assert_eq!(
        letter.subject(),
        format!("Ответ по обращению №{ru_number} — Демо Телеком")
    );
    assert!(letter.text().contains("Здравствуйте, Мария Смирнова!"));

    // Audited, with what was there before.
    let details: serde_json::Value = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'letter_template.update' \
           AND target = 'letter_template:ticket_reply:en'",
    )
    .fetch_one(&mut admin)
    .await
    .expect("audit entry");
    assert_eq!(details["before"]["customized"], false);
    assert_eq!(
        details["after"]["subject"],
        "{{isp.name}}: we answered #{{ ticket.number }}"
    );

    // A reset brings the built-in letter back.
    let reset = json_body(owner.delete(EN_REPLY).await, StatusCode::OK).await;
    assert_eq!(reset["customized"], false);
    assert_eq!(
        reset["subject"],
        "New reply to your ticket #{{ticket.number}} — {{isp.name}}"
    );
    reply(&owner, en_id, "Any better?").await;
    let letters = smtp.wait_for("ivan.petrov@example.com", 2).await;
    assert_eq!(
        letters[1].subject(),
        format!("New reply to your ticket #{en_number} — Демо Телеком")
    );
}

#[tokio::test]
async fn bad_placeholders_are_refused_and_the_preview_shows_sample_values() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(HOST, "owner@demo.example").await;
    for (subject, body, code) in [
        ("Hi", "Hello {{subscriber.nick}}", "unknown_placeholder"),
        ("Hi {{isp.name", "Hello", "unclosed_placeholder"),
        // A reply has no status to tell.
        ("Hi", "Now {{ticket.status}}", "unknown_placeholder"),
    ] {
        assert_problem(
            owner
                .put(EN_REPLY, &json!({"subject": subject, "body": body}))
                .await,
            StatusCode::BAD_REQUEST,
            code,
        )
        .await;
    }
    assert_problem(
        owner
            .put(
                "/api/v1/console/letter-templates/ticket_reply/de",
                &json!({"subject": "Hallo", "body": "Hallo"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    let list = json_body(
        owner.get("/api/v1/console/letter-templates").await,
        StatusCode::OK,
    )
    .await;
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["customized"] == false),
        "nothing was saved: {list}"
    );

    let preview = json_body(
        owner
            .post(
                "/api/v1/console/letter-templates/preview",
                &json!({
                    "kind": "ticket_status",
                    "language": "ru",
                    "subject": "№{{ticket.number}}: {{ticket.status}}",
                    "body": "Добрый день, {{subscriber.name}}!\n\n<b>{{ticket.subject}}</b>",
                }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(preview["subject"], "№1234: решено");
    assert!(
        preview["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Добрый день, Иван Петров!")),
        "{preview}"
    );
    assert!(
        preview["html"]
            .as_str()
            .is_some_and(|h| h.contains("&lt;b&gt;Нет интернета&lt;/b&gt;")),
        "{preview}"
    );
    assert_problem(
        owner
            .post(
                "/api/v1/console/letter-templates/preview",
                &json!({"kind": "ticket_reply", "language": "en", "subject": "{{x}}", "body": "b"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "unknown_placeholder",
    )
    .await;

    // An agent may not touch the ISP's letters.
    let agent = app.staff(HOST, "agent@demo.example").await;
    assert_problem(
        agent.get("/api/v1/console/letter-templates").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}
