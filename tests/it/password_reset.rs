//! Password reset by e-mail, end to end: the request, the letter over real SMTP, the link, the
//! new password, and the mail outbox's delivery (retries, bounces, several senders at once).

use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_mail::{Delivered, Mail, Sender};
use kabinet_tests::{
    MailCatcher, PASSWORD, ReceivedMail, TestApp, assert_problem, json, json_body, mail_settings,
};
use reqwest::StatusCode;

const NEW_PASSWORD: &str = "a brand new secret 42";

/// The token of the reset link in a letter (plain-text part).
fn link_token(mail: &ReceivedMail, base: &str) -> String {
    let text = mail.text();
    let prefix = format!("{base}/reset-password?token=");
    let start = text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no link to {prefix} in: {text}"))
        + prefix.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn ask(client: &kabinet_tests::Client, audience: &str, login: &str) -> reqwest::Response {
    client
        .post(
            "/api/v1/auth/password-reset",
            &json!({"audience": audience, "login": login}),
        )
        .await
}

/// A 202 with nothing in it: the same for every account, real or not.
async fn assert_accepted(resp: reqwest::Response) {
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert!(resp.headers().get("set-cookie").is_none());
    assert_eq!(resp.text().await.expect("body"), "");
}

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

#[tokio::test]
async fn a_subscriber_resets_a_forgotten_password_with_the_link_from_the_mail() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let base = format!("http://demo.localhost:{}", app.addr.port());
    // Signed in on another device, which the reset must end.
    let old_device = app.subscriber("demo.localhost", "100001").await;
    let visitor = app.client("demo.localhost");

    assert_accepted(ask(&visitor, "subscriber", "100001").await).await;
    let letters = smtp.wait_for("ivan.petrov@example.com", 1).await;
    let letter = &letters[0];
    assert_eq!(letter.envelope_from, "noreply@kabinet.test");
    assert_eq!(
        letter.from(),
        (
            Some("Демо Телеком".to_owned()),
            "noreply@kabinet.test".to_owned()
        )
    );
    assert_eq!(letter.reply_to().as_deref(), Some("support@demo.example"));
    // The ISP speaks Russian by default.
    assert_eq!(letter.subject(), "Сброс пароля — Демо Телеком");
    let text = letter.text();
    assert!(text.contains("Здравствуйте, Иван Петров!"), "{text}");
    assert!(text.contains("лицевой счёт 100001"), "{text}");
    assert!(letter.html().is_some_and(|h| h.contains(&base)));
    let token = link_token(letter, &base);
    assert_eq!(token.len(), 43, "{token}");

    // Unknown accounts, and accounts without an e-mail, get the very same answer and no mail.
    assert_accepted(ask(&visitor, "subscriber", "999999").await).await;
    assert_accepted(ask(&visitor, "subscriber", "nobody@example.com").await).await;
    assert_accepted(ask(&visitor, "staff", "100001").await).await;
    let mut admin = app.db.admin().await.expect("admin");
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM mail_outbox")
        .fetch_one(&mut admin)
        .await
        .expect("count");
    assert_eq!(queued, 1);

    // The policy of a password change applies; a refused password leaves the link usable.
    for weak in ["short", PASSWORD, "100001", "Ivan.Petrov@example.com"] {
        assert_problem(
            visitor
                .post(
                    "/api/v1/auth/password-reset/complete",
                    &json!({"token": token, "new_password": weak}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
        )
        .await;
    }
    let done = json_body(
        visitor
            .post(
                "/api/v1/auth/password-reset/complete",
                &json!({"token": token, "new_password": NEW_PASSWORD}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["kind"], "subscriber");
    assert_eq!(done["sessions_ended"], 1);

    // Single use.
    assert_problem(
        visitor
            .post(
                "/api/v1/auth/password-reset/complete",
                &json!({"token": token, "new_password": "yet another password"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_reset_token",
    )
    .await;
    // The old session is over, the old password too, the new one works.
    assert_problem(
        old_device.get("/api/v1/me/dashboard").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let mut client = app.client("demo.localhost");
    assert_problem(
        client.login_subscriber("100001", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    json_body(
        client.login_subscriber("100001", NEW_PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    let status: String = sqlx::query_scalar("SELECT status FROM mail_outbox")
        .fetch_one(&mut admin)
        .await
        .expect("status");
    assert_eq!(status, "sent");
}

#[tokio::test]
async fn links_expire_a_new_one_replaces_the_old_and_requests_are_limited() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let base = format!("http://demo.localhost:{}", app.addr.port());
    let visitor = app.client("demo.localhost");
    let complete = |token: String| {
        let visitor = &visitor;
        async move {
            visitor
                .post(
                    "/api/v1/auth/password-reset/complete",
                    &json!({"token": token, "new_password": NEW_PASSWORD}),
                )
                .await
        }
    };

    // By e-mail this time, in any case.
    assert_accepted(ask(&visitor, "subscriber", "Ivan.Petrov@Example.com").await).await;
    let first = link_token(&smtp.wait_for("ivan.petrov@example.com", 1).await[0], &base);
    assert_accepted(ask(&visitor, "subscriber", "ivan.petrov@example.com").await).await;
    let second = link_token(&smtp.wait_for("ivan.petrov@example.com", 2).await[1], &base);
    assert_ne!(first, second);
    // Only the newest link is open.
    assert_problem(
        complete(first).await,
        StatusCode::BAD_REQUEST,
        "invalid_reset_token",
    )
    .await;
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE password_reset_tokens SET expires_at = now() - interval '1 second'")
        .execute(&mut admin)
        .await
        .expect("expire");
    assert_problem(
        complete(second).await,
        StatusCode::BAD_REQUEST,
        "invalid_reset_token",
    )
    .await;
    for garbage in ["x", &"A".repeat(43), "../../etc/passwd"] {
        assert_problem(
            complete(garbage.to_owned()).await,
            StatusCode::BAD_REQUEST,
            "invalid_reset_token",
        )
        .await;
    }

    // Three requests an hour per login, whether or not it exists: the answer does not tell.
    assert_accepted(ask(&visitor, "subscriber", "ivan.petrov@example.com").await).await;
    assert_problem(
        ask(&visitor, "subscriber", "ivan.petrov@example.com").await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    )
    .await;
    for _ in 0..3 {
        assert_accepted(ask(&visitor, "subscriber", "404404").await).await;
    }
    assert_problem(
        ask(&visitor, "subscriber", "404404").await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    )
    .await;
    // Another ISP's host is another site: its own accounts, its own limits.
    let north = app.client("northnet.localhost");
    assert_accepted(ask(&north, "subscriber", "ivan.petrov@example.com").await).await;
}

#[tokio::test]
async fn staff_reset_by_email_in_english_for_an_english_isp_and_it_is_audited() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let base = format!("http://northnet.localhost:{}", app.addr.port());
    let visitor = app.client("northnet.localhost");
    let owner = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    assert_accepted(ask(&visitor, "staff", "OWNER@northnet.example").await).await;
    let letter = smtp.wait_for("owner@northnet.example", 1).await.remove(0);
    assert_eq!(letter.subject(), "Reset your password — NorthNet");
    assert!(letter.text().contains("staff account"), "{}", letter.text());
    let token = link_token(&letter, &base);
    // A link from one ISP's letter means nothing on another's host.
    let demo = app.client("demo.localhost");
    assert_problem(
        demo.post(
            "/api/v1/auth/password-reset/complete",
            &json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_reset_token",
    )
    .await;
    let done = json_body(
        visitor
            .post(
                "/api/v1/auth/password-reset/complete",
                &json!({"token": token, "new_password": NEW_PASSWORD}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["kind"], "staff");
    assert_problem(
        owner.get("/api/v1/console/tickets").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let mut client = app.client("northnet.localhost");
    json_body(
        client
            .login_staff("owner@northnet.example", NEW_PASSWORD)
            .await,
        StatusCode::OK,
    )
    .await;
    let mut admin = app.db.admin().await.expect("admin");
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'password.reset' AND target LIKE 'staff:%'",
    )
    .fetch_one(&mut admin)
    .await
    .expect("count");
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn a_reset_keeps_two_factor_authentication_on() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let base = format!("http://demo.localhost:{}", app.addr.port());
    let me = app.subscriber("demo.localhost", "100001").await;
    let started = json_body(
        me.post(
            "/api/v1/me/two-factor/enrollment",
            &json!({"password": PASSWORD}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let secret = started["secret"].as_str().expect("secret");
    json_body(
        me.post(
            "/api/v1/me/two-factor/confirm",
            &json!({"code": kabinet_tests::totp_code(secret, kabinet_tests::unix_now())}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let visitor = app.client("demo.localhost");
    assert_accepted(ask(&visitor, "subscriber", "100001").await).await;
    let token = link_token(&smtp.wait_for("ivan.petrov@example.com", 1).await[0], &base);
    json_body(
        visitor
            .post(
                "/api/v1/auth/password-reset/complete",
                &json!({"token": token, "new_password": NEW_PASSWORD}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let mut client = app.client("demo.localhost");
    let body = json_body(
        client.login_subscriber("100001", NEW_PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["outcome"], "second_factor_required");
}

#[tokio::test]
async fn the_outbox_retries_refusals_gives_up_on_bounces_and_sends_each_message_once() {
    let app = TestApp::spawn().await.expect("app");
    let demo = tenant(&app, "demo").await;
    let letter = |to: &str| Mail {
        to: to.to_owned(),
        from_name: Some("Демо Телеком".into()),
        reply_to: None,
        subject: "Проверка".into(),
        text: "Текст письма".into(),
        html: None,
    };

    // No SMTP server configured: the worker says so and leaves the mail queued.
    let mut tx = app.db.db.tenant_tx(demo).await.expect("tx");
    kabinet_mail::enqueue(&mut tx, letter("a@example.com"))
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    kabinet_mail::spawn_worker(app.db.db.clone(), mail_settings(None))
        .expect("worker")
        .await
        .expect("the worker stops at once");
    let mut tx = app.db.db.tenant_tx(demo).await.expect("tx");
    let outbox = kabinet_mail::recent(&mut tx, 10).await.expect("outbox");
    drop(tx);
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        (outbox[0].status.as_str(), outbox[0].attempts),
        ("queued", 0)
    );

    // Nobody listening on the configured port: a transient failure, retried later.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let dead_url = format!("smtp://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let unreachable = Sender::new(&mail_settings(Some(dead_url)))
        .expect("settings")
        .expect("sender");
    assert_eq!(
        unreachable.deliver_all(&app.db.db).await.expect("pass"),
        Delivered {
            retrying: 1,
            ..Delivered::default()
        }
    );
    let mut admin = app.db.admin().await.expect("admin");
    let (attempts, error, later): (i32, Option<String>, bool) = sqlx::query_as(
        "SELECT attempts, last_error, next_attempt_at > now() + interval '20 seconds' FROM mail_outbox",
    )
    .fetch_one(&mut admin)
    .await
    .expect("row");
    assert_eq!(attempts, 1);
    assert!(error.is_some());
    assert!(later, "the retry waits");
    // Not due yet: another pass leaves it alone.
    assert_eq!(
        unreachable.deliver_all(&app.db.db).await.expect("pass"),
        Delivered::default()
    );

    // A server that answers: the retry goes through once due; a refused mailbox fails for good.
    let smtp = MailCatcher::start().expect("smtp");
    let sender = Sender::new(&mail_settings(Some(smtp.smtp_url())))
        .expect("settings")
        .expect("sender");
    sqlx::query("UPDATE mail_outbox SET next_attempt_at = now()")
        .execute(&mut admin)
        .await
        .expect("due");
    let mut tx = app.db.db.tenant_tx(demo).await.expect("tx");
    kabinet_mail::enqueue(&mut tx, letter("someone@bounce.invalid"))
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    assert_eq!(
        sender.deliver_tenant(&app.db.db, demo).await.expect("pass"),
        Delivered {
            sent: 1,
            failed: 1,
            ..Delivered::default()
        }
    );
    let received = smtp.messages_to("a@example.com");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].subject(), "Проверка");
    assert_eq!(received[0].text().trim(), "Текст письма");
    let states: Vec<(String, String)> =
        sqlx::query_as("SELECT to_addr, status FROM mail_outbox ORDER BY to_addr")
            .fetch_all(&mut admin)
            .await
            .expect("rows");
    assert_eq!(
        states,
        [
            ("a@example.com".to_owned(), "sent".to_owned()),
            ("someone@bounce.invalid".to_owned(), "failed".to_owned())
        ]
    );

    // Two nodes delivering the same outbox at once send every message exactly once.
    let mut tx = app.db.db.tenant_tx(demo).await.expect("tx");
    for n in 0..30 {
        kabinet_mail::enqueue(&mut tx, letter(&format!("bulk{n}@example.com")))
            .await
            .expect("enqueue");
    }
    tx.commit().await.expect("commit");
    let other = Sender::new(&mail_settings(Some(smtp.smtp_url())))
        .expect("settings")
        .expect("sender");
    let (a, b) = tokio::join!(
        sender.deliver_tenant(&app.db.db, demo),
        other.deliver_tenant(&app.db.db, demo)
    );
    assert_eq!(a.expect("a").sent + b.expect("b").sent, 30);
    let bulk: Vec<ReceivedMail> = smtp
        .messages()
        .into_iter()
        .filter(|m| m.envelope_to[0].starts_with("bulk"))
        .collect();
    assert_eq!(bulk.len(), 30);
    let mut recipients: Vec<&str> = bulk.iter().map(|m| m.envelope_to[0].as_str()).collect();
    recipients.sort_unstable();
    recipients.dedup();
    assert_eq!(recipients.len(), 30, "a message was sent twice");

    // Enqueueing checks the addresses at once.
    let mut tx = app.db.db.tenant_tx(demo).await.expect("tx");
    assert!(matches!(
        kabinet_mail::enqueue(&mut tx, letter("not an address")).await,
        Err(kabinet_mail::MailError::Invalid { field: "to", .. })
    ));
}

#[tokio::test]
async fn requests_at_the_same_moment_leave_one_open_link() {
    let app = TestApp::spawn().await.expect("app");
    let (a, b) = (app.client("demo.localhost"), app.client("demo.localhost"));
    let (first, second) = tokio::join!(
        ask(&a, "subscriber", "100002"),
        ask(&b, "subscriber", "maria.smirnova@example.com")
    );
    assert_accepted(first).await;
    assert_accepted(second).await;
    let mut admin = app.db.admin().await.expect("admin");
    let (open, letters): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM password_reset_tokens WHERE used_at IS NULL), \
                (SELECT count(*) FROM mail_outbox WHERE to_addr = 'maria.smirnova@example.com')",
    )
    .fetch_one(&mut admin)
    .await
    .expect("counts");
    assert_eq!((open, letters), (1, 2));
}
