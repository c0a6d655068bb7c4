//! Staff invitations by e-mail, end to end: the letter over real SMTP, the link's token spent
//! once, resend and revoke killing old links, expiry, the escalation rule, permissions and
//! tenant isolation. (Deactivation ending every session is `staff_roles.rs`.)

use kabinet_db::sqlx;
use kabinet_tests::{Client, MailCatcher, ReceivedMail, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

const DEMO: &str = "demo.localhost";
const NORTHNET: &str = "northnet.localhost";
const NEW_PASSWORD: &str = "a long invitee secret 9";

/// The token of the invitation link in a letter (plain-text part).
fn link_token(mail: &ReceivedMail, base: &str) -> String {
    let text = mail.text();
    let prefix = format!("{base}/console/invite?token=");
    let start = text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no link to {prefix} in: {text}"))
        + prefix.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn base(app: &TestApp, host: &str) -> String {
    format!("http://{host}:{}", app.addr.port())
}

async fn invite(client: &Client, email: &str, role: Value) -> reqwest::Response {
    client
        .post(
            "/api/v1/console/invitations",
            &json!({ "email": email, "role": role }),
        )
        .await
}

fn built_in(role: &str) -> Value {
    json!({ "kind": "built_in", "role": role })
}

/// Invites and returns the invitation and the token of the `n`-th letter to the address.
async fn invite_and_read(
    app: &TestApp,
    smtp: &MailCatcher,
    client: &Client,
    email: &str,
    role: Value,
    letter: usize,
) -> (Value, String) {
    let created = json_body(invite(client, email, role).await, StatusCode::CREATED).await;
    let letters = smtp.wait_for(&email.trim().to_lowercase(), letter).await;
    (created, link_token(&letters[letter - 1], &base(app, DEMO)))
}

async fn preview(client: &Client, token: &str) -> reqwest::Response {
    client
        .post("/api/v1/auth/invitation", &json!({ "token": token }))
        .await
}

async fn accept(client: &Client, token: &str, password: &str) -> reqwest::Response {
    client
        .post(
            "/api/v1/auth/invitation/accept",
            &json!({ "token": token, "display_name": " Тимофей Новиков ", "password": password }),
        )
        .await
}

async fn pending(client: &Client) -> Vec<Value> {
    json_body(
        client.get("/api/v1/console/invitations").await,
        StatusCode::OK,
    )
    .await["items"]
        .as_array()
        .expect("items")
        .clone()
}

async fn staff_id(owner: &Client, email: &str) -> String {
    let list = json_body(owner.get("/api/v1/console/staff").await, StatusCode::OK).await;
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["email"] == email)
        .unwrap_or_else(|| panic!("{email} in {list}"))["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[tokio::test]
async fn an_invitee_accepts_the_letter_once_and_joins_with_the_role() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let owner = app.staff(DEMO, "owner@demo.example").await;

    let (created, token) = invite_and_read(
        &app,
        &smtp,
        &owner,
        " New.Tech@Example.com ",
        built_in("technician"),
        1,
    )
    .await;
    assert_eq!(created["email"], "new.tech@example.com");
    assert_eq!(created["role"]["built_in"], "technician");
    assert_eq!(created["sends"], 1);
    assert_eq!(created["expired"], false);
    let letter = &smtp.messages_to("new.tech@example.com")[0];
    // The ISP speaks Russian by default and signs the letter; the link goes to its own host.
    assert_eq!(letter.subject(), "Приглашение в консоль — Демо Телеком");
    assert_eq!(letter.from().0.as_deref(), Some("Демо Телеком"));
    let text = letter.text();
    assert!(text.contains("«техник»"), "{text}");
    assert_eq!(token.len(), 43, "{token}");

    let visitor = app.client(DEMO);
    let shown = json_body(preview(&visitor, &token).await, StatusCode::OK).await;
    assert_eq!(shown["isp_name"], "Демо Телеком");
    assert_eq!(shown["email"], "new.tech@example.com");
    assert_eq!(shown["role"]["built_in"], "technician");

    // The password policy applies; a refused password leaves the link usable.
    assert_problem(
        accept(&visitor, &token, "short").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "weak_password",
    )
    .await;
    assert_problem(
        accept(&visitor, &token, "new.tech@example.com").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "weak_password",
    )
    .await;
    let signed_in = json_body(accept(&visitor, &token, NEW_PASSWORD).await, StatusCode::OK).await;
    assert_eq!(signed_in["outcome"], "signed_in");
    assert_eq!(signed_in["kind"], "staff");
    assert_eq!(signed_in["display_name"], "Тимофей Новиков");
    assert_eq!(signed_in["roles"], json!(["technician"]));
    // The new session works at once with the role's permissions.
    json_body(visitor.get("/api/v1/console/tickets").await, StatusCode::OK).await;

    // The link works once.
    assert_problem(
        accept(&app.client(DEMO), &token, NEW_PASSWORD).await,
        StatusCode::GONE,
        "invitation_accepted",
    )
    .await;
    assert_problem(
        preview(&app.client(DEMO), &token).await,
        StatusCode::GONE,
        "invitation_accepted",
    )
    .await;

    // The owner sees them on the staff; the invitation is no longer open.
    let list = json_body(owner.get("/api/v1/console/staff").await, StatusCode::OK).await;
    let member = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["email"] == "new.tech@example.com")
        .expect("new staff member")
        .clone();
    assert_eq!(member["active"], true);
    assert_eq!(member["roles"], json!(["technician"]));
    assert!(pending(&owner).await.is_empty());
    // They sign in with their password like anyone else.
    let mut again = app.client(DEMO);
    json_body(
        again
            .login_staff("new.tech@example.com", NEW_PASSWORD)
            .await,
        StatusCode::OK,
    )
    .await;
    // Inviting them again: they are staff already.
    assert_problem(
        invite(&owner, "new.tech@example.com", built_in("admin")).await,
        StatusCode::CONFLICT,
        "already_staff",
    )
    .await;

    for (action, actor_is_owner) in [("invitation.create", true), ("invitation.accept", false)] {
        let log = json_body(
            owner
                .get(&format!("/api/v1/console/audit?action={action}"))
                .await,
            StatusCode::OK,
        )
        .await;
        let entry = &log["items"][0];
        assert_eq!(
            entry["target"],
            format!("invitation:{}", created["id"].as_str().expect("id"))
        );
        if actor_is_owner {
            assert_eq!(entry["details"]["after"]["email"], "new.tech@example.com");
        } else {
            assert_eq!(entry["details"]["role"], json!({"built_in": "technician"}));
            assert_eq!(entry["details"]["staff"], member["id"]);
        }
    }
}

#[tokio::test]
async fn a_custom_role_invitation_grants_that_role() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let owner = app.staff(DEMO, "owner@demo.example").await;
    let role = json_body(
        owner
            .post(
                "/api/v1/console/roles",
                &json!({"name": "Night shift", "permissions": ["tickets.read", "tickets.reply"]}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let (created, token) = invite_and_read(
        &app,
        &smtp,
        &owner,
        "night@example.com",
        json!({"kind": "custom", "id": role["id"]}),
        1,
    )
    .await;
    assert_eq!(created["role"]["custom_name"], "Night shift");
    assert!(
        smtp.messages_to("night@example.com")[0]
            .text()
            .contains("«Night shift»")
    );
    let invitee = app.client(DEMO);
    let signed_in = json_body(accept(&invitee, &token, NEW_PASSWORD).await, StatusCode::OK).await;
    assert_eq!(
        signed_in["permissions"],
        json!(["tickets.read", "tickets.reply"])
    );
    let list = json_body(owner.get("/api/v1/console/staff").await, StatusCode::OK).await;
    let member = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["email"] == "night@example.com")
        .expect("member")
        .clone();
    assert_eq!(member["custom_roles"][0]["name"], "Night shift");
    assert_eq!(member["roles"], json!([]));
}

#[tokio::test]
async fn resend_revoke_replace_and_expiry_each_kill_the_old_link() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let owner = app.staff(DEMO, "owner@demo.example").await;
    let email = "later@example.com";
    let (created, first) =
        invite_and_read(&app, &smtp, &owner, email, built_in("support_agent"), 1).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let resend = format!("/api/v1/console/invitations/{id}/resend");

    // Throttled: not again within a minute.
    assert_problem(
        owner.post(&resend, &json!({})).await,
        StatusCode::TOO_MANY_REQUESTS,
        "resend_too_soon",
    )
    .await;
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query(
        "UPDATE staff_invitations SET sent_at = now() - interval '2 minutes' WHERE id = $1::uuid",
    )
    .bind(&id)
    .execute(&mut admin)
    .await
    .expect("backdate");
    let resent = json_body(owner.post(&resend, &json!({})).await, StatusCode::OK).await;
    assert_eq!(resent["sends"], 2);
    let second = link_token(&smtp.wait_for(email, 2).await[1], &base(&app, DEMO));
    assert_ne!(first, second);
    let visitor = app.client(DEMO);
    assert_problem(
        preview(&visitor, &first).await,
        StatusCode::GONE,
        "invitation_invalid",
    )
    .await;
    json_body(preview(&visitor, &second).await, StatusCode::OK).await;

    // Inviting the same address again replaces the open invitation.
    let (replacement, third) =
        invite_and_read(&app, &smtp, &owner, email, built_in("billing_clerk"), 3).await;
    assert_problem(
        preview(&visitor, &second).await,
        StatusCode::GONE,
        "invitation_revoked",
    )
    .await;
    let open = pending(&owner).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["id"], replacement["id"]);
    assert_eq!(open[0]["role"]["built_in"], "billing_clerk");

    // Revoked: the link stops working at once.
    let replacement_id = replacement["id"].as_str().expect("id");
    let revoked = owner
        .delete(&format!("/api/v1/console/invitations/{replacement_id}"))
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_problem(
        accept(&visitor, &third, NEW_PASSWORD).await,
        StatusCode::GONE,
        "invitation_revoked",
    )
    .await;
    assert!(pending(&owner).await.is_empty());
    assert_problem(
        owner
            .delete(&format!("/api/v1/console/invitations/{replacement_id}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Expired after 7 days: the link says so; a resend renews it.
    let (stale, fourth) = invite_and_read(
        &app,
        &smtp,
        &owner,
        "stale@example.com",
        built_in("read_only"),
        1,
    )
    .await;
    let stale_id = stale["id"].as_str().expect("id");
    let days: i64 = sqlx::query_scalar(
        "SELECT extract(day FROM expires_at - created_at)::bigint FROM staff_invitations \
         WHERE id = $1::uuid",
    )
    .bind(stale_id)
    .fetch_one(&mut admin)
    .await
    .expect("ttl");
    assert_eq!(days, 7);
    sqlx::query(
        "UPDATE staff_invitations SET expires_at = now() - interval '1 minute', \
           sent_at = now() - interval '8 days' WHERE id = $1::uuid",
    )
    .bind(stale_id)
    .execute(&mut admin)
    .await
    .expect("expire");
    assert_problem(
        accept(&visitor, &fourth, NEW_PASSWORD).await,
        StatusCode::GONE,
        "invitation_expired",
    )
    .await;
    assert_eq!(pending(&owner).await[0]["expired"], true);
    json_body(
        owner
            .post(
                &format!("/api/v1/console/invitations/{stale_id}/resend"),
                &json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let fifth = link_token(
        &smtp.wait_for("stale@example.com", 2).await[1],
        &base(&app, DEMO),
    );
    json_body(accept(&visitor, &fifth, NEW_PASSWORD).await, StatusCode::OK).await;

    for action in ["invitation.resend", "invitation.revoke"] {
        let log = json_body(
            owner
                .get(&format!("/api/v1/console/audit?action={action}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(
            !log["items"].as_array().expect("items").is_empty(),
            "{action}: {log}"
        );
    }
}

#[tokio::test]
async fn nobody_invites_beyond_their_own_permissions() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let owner = app.staff(DEMO, "owner@demo.example").await;
    let viewer = app.staff(DEMO, "viewer@demo.example").await;
    assert_problem(
        invite(&viewer, "x@example.com", built_in("read_only")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        viewer.get("/api/v1/console/invitations").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // An admin (staff.manage, not audit.read) may invite an agent, never an owner.
    let agent_id = staff_id(&owner, "agent@demo.example").await;
    json_body(
        owner
            .put(
                &format!("/api/v1/console/staff/{agent_id}/role"),
                &built_in("admin"),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let admin = app.staff(DEMO, "agent@demo.example").await;
    assert_problem(
        invite(&admin, "boss@example.com", built_in("owner")).await,
        StatusCode::FORBIDDEN,
        "beyond_own_permissions",
    )
    .await;
    json_body(
        invite(&admin, "helper@example.com", built_in("support_agent")).await,
        StatusCode::CREATED,
    )
    .await;
    // Nor resend or revoke an owner's invitation of an owner.
    let (boss, _) = invite_and_read(
        &app,
        &smtp,
        &owner,
        "boss@example.com",
        built_in("owner"),
        1,
    )
    .await;
    let boss_id = boss["id"].as_str().expect("id");
    assert_problem(
        admin
            .delete(&format!("/api/v1/console/invitations/{boss_id}"))
            .await,
        StatusCode::FORBIDDEN,
        "beyond_own_permissions",
    )
    .await;

    // Existing staff, active or not, and nonsense addresses.
    assert_problem(
        invite(&owner, "Viewer@Demo.example", built_in("read_only")).await,
        StatusCode::CONFLICT,
        "already_staff",
    )
    .await;
    let viewer_id = staff_id(&owner, "viewer@demo.example").await;
    json_body(
        owner
            .put(
                &format!("/api/v1/console/staff/{viewer_id}/active"),
                &json!({"active": false}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        invite(&owner, "viewer@demo.example", built_in("read_only")).await,
        StatusCode::CONFLICT,
        "staff_deactivated",
    )
    .await;
    assert_problem(
        invite(&owner, "not an address", built_in("read_only")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
}

#[tokio::test]
async fn an_invitation_belongs_to_its_isp() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let owner = app.staff(DEMO, "owner@demo.example").await;
    let (created, token) = invite_and_read(
        &app,
        &smtp,
        &owner,
        "cross@example.com",
        built_in("admin"),
        1,
    )
    .await;
    let id = created["id"].as_str().expect("id");

    // The demo link's token means nothing on NorthNet's host.
    let stranger = app.client(NORTHNET);
    assert_problem(
        preview(&stranger, &token).await,
        StatusCode::GONE,
        "invitation_invalid",
    )
    .await;
    assert_problem(
        accept(&stranger, &token, NEW_PASSWORD).await,
        StatusCode::GONE,
        "invitation_invalid",
    )
    .await;
    // NorthNet's owner neither sees nor touches it.
    let north = app.staff(NORTHNET, "owner@northnet.example").await;
    assert!(pending(&north).await.is_empty());
    assert_problem(
        north
            .post(
                &format!("/api/v1/console/invitations/{id}/resend"),
                &json!({}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        north
            .delete(&format!("/api/v1/console/invitations/{id}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Still good on its own host.
    json_body(preview(&app.client(DEMO), &token).await, StatusCode::OK).await;
    assert_eq!(pending(&owner).await.len(), 1);
}
