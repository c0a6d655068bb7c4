//! One ISP can never see or touch another's rows. Generated from the schema: every tenant-owned
//! table is checked, and a new table fails here until the seed below gives it rows.

use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_tests::{
    PASSWORD, TestApp, json, json_body, pay_on_checkout_page, totp_code, unix_now,
};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::schema::tenant_tables;

/// Drives both demo ISPs through the product so every tenant table holds rows of each.
pub(crate) async fn seed_both_tenants(app: &TestApp) {
    for (host, account, staff, other_tariff, equipment) in [
        (
            "demo.localhost",
            "100001",
            "owner@demo.example",
            "home-500",
            "patch-cord-5m",
        ),
        (
            "northnet.localhost",
            "200001",
            "owner@northnet.example",
            "fiber-300",
            "patch-cable",
        ),
    ] {
        let mut subscriber = app.client(host);
        json_body(
            subscriber.login_subscriber(account, PASSWORD).await,
            StatusCode::OK,
        )
        .await;
        json_body(
            subscriber
                .post(
                    "/api/v1/me/promised-payment",
                    &json!({"amount_minor": 1000}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        json_body(
            subscriber
                .post("/api/v1/me/tariff", &json!({"code": other_tariff}))
                .await,
            StatusCode::OK,
        )
        .await;
        json_body(
            subscriber
                .post("/api/v1/me/addons/static-ip", &json!({}))
                .await,
            StatusCode::CREATED,
        )
        .await;
        // An equipment order and its cancellation: equipment_orders, _events and _counters
        // (equipment_items and news_posts come from the manifests).
        let order = json_body(
            subscriber
                .post(
                    "/api/v1/me/equipment-orders",
                    &json!({"code": equipment, "mode": "buy", "delivery_note": "",
                            "contact_phone": "+79001234567", "request_id": Uuid::now_v7()}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        let order_id = order["id"].as_str().expect("order id");
        json_body(
            subscriber
                .post(
                    &format!("/api/v1/me/equipment-orders/{order_id}/cancel"),
                    &json!({}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        json_body(
            subscriber
                .post("/api/v1/me/suspension", &json!({"days": 14}))
                .await,
            StatusCode::CREATED,
        )
        .await;
        // A card top-up with the card saved: online_payments, stripe_events, autopay_settings.
        let started = json_body(
            subscriber
                .post(
                    "/api/v1/me/payments/checkout",
                    &json!({"amount_minor": 5000, "save_card": true}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        pay_on_checkout_page(
            started["checkout_url"].as_str().expect("url"),
            "4242424242424242",
        )
        .await
        .expect("paid");
        let mut card_saved = false;
        for _ in 0..100 {
            let options = json_body(
                subscriber.get("/api/v1/me/payment-options").await,
                StatusCode::OK,
            )
            .await;
            if !options["autopay"]["card"].is_null() {
                card_saved = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(card_saved, "the card was saved after the top-up");
        let ticket = subscriber
            .open_ticket("connectivity", "No link", "Down since 9")
            .await;
        let mut agent = app.client(host);
        json_body(agent.login_staff(staff, PASSWORD).await, StatusCode::OK).await;
        let id = ticket["id"].as_str().expect("id");
        json_body(
            agent
                .post(
                    &format!("/api/v1/console/tickets/{id}/replies"),
                    &json!({"body": "Looking"}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        // A reply notifies the subscriber (notifications); a file on a note: ticket_attachments.
        json_body(
            crate::attachments::post_multipart(
                &agent,
                &format!("/api/v1/console/tickets/{id}/notes"),
                &[("body", "Screenshot")],
                &[("screen.png", crate::attachments::PNG)],
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        // The agent desk: an internal note, tags (with their events) and the ISP's settings
        // and SLA policies.
        crate::ticket_desk::seed_desk(&agent, id).await;
        // Canned replies and a merge of two of the subscriber's tickets.
        crate::ticket_tools::seed_tools(&agent, &subscriber).await;
        // The ISP's own wording of a letter (letter_templates).
        crate::letters::seed_letters(&agent).await;
        // Staff access: a custom role held by a staff member, the staff sign-in rules.
        let slug = host.trim_end_matches(".localhost");
        crate::staff_roles::seed_roles(app, slug, &agent).await;
        // The new-ticket form: a deflection event and the suggestions the ticket was sent with.
        crate::ticket_search::seed_deflection(&subscriber, id).await;
        // Account security: an authenticator with recovery codes, a sign-in waiting for its
        // second factor, and a password reset link with its letter in the mail outbox.
        let started = json_body(
            subscriber
                .post(
                    "/api/v1/me/two-factor/enrollment",
                    &json!({"password": PASSWORD}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        let code = totp_code(started["secret"].as_str().expect("secret"), unix_now());
        json_body(
            subscriber
                .post("/api/v1/me/two-factor/confirm", &json!({"code": code}))
                .await,
            StatusCode::OK,
        )
        .await;
        let mut waiting = app.client(host);
        json_body(
            waiting.login_subscriber(account, PASSWORD).await,
            StatusCode::OK,
        )
        .await;
        let reset = waiting
            .post(
                "/api/v1/auth/password-reset",
                &json!({"audience": "staff", "login": staff}),
            )
            .await;
        assert_eq!(reset.status(), StatusCode::ACCEPTED);
        // Network: NAS, a service login, a session with traffic, a queued Disconnect.
        crate::radius::seed_network(app, host, staff, account).await;
        // Auto-assignment: a group with the staff member (agent_groups, agent_group_members)
        // and their shift (agent_shifts).
        let me = json_body(
            agent.get("/api/v1/console/ticket-agents").await,
            StatusCode::OK,
        )
        .await;
        let me = me["items"]
            .as_array()
            .and_then(|a| a.iter().find(|i| i["me"] == true))
            .and_then(|i| i["id"].as_str())
            .expect("own staff id")
            .to_owned();
        json_body(
            agent
                .post(
                    "/api/v1/console/assignment/groups",
                    &json!({"name": "Support", "mode": "round_robin", "members": [me]}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        json_body(
            agent
                .put("/api/v1/console/me/shift", &json!({"on_shift": true}))
                .await,
            StatusCode::OK,
        )
        .await;
        // A weekly shift schedule (agent_shift_schedules, agent_shift_spans).
        json_body(
            agent
                .put(
                    "/api/v1/console/me/shift-schedule",
                    &json!({"spans": [{"weekday": 1, "starts_at": "09:00", "ends_at": "18:00"}],
                            "off_on_holidays": true}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        // An outage on that NAS (incidents, its affected subscriber, a linked ticket, an
        // update), a rated resolved ticket (ticket_ratings) and a staff invitation.
        seed_incident_rating_and_invitation(app, host, &agent, &subscriber, ticket_number(&ticket))
            .await;
        // Self-serve signup: an owner still waiting to confirm the e-mail (manifest tenants
        // never have one, so it is written as signup would write it).
        let slug = host.trim_end_matches(".localhost");
        let tenant = tenant_id(app, slug).await;
        let mut admin = app.db.admin().await.expect("admin");
        sqlx::query(
            "WITH owner AS ( \
               INSERT INTO staff (tenant_id, id, email, display_name, active) \
               VALUES ($1, gen_random_uuid(), 'pending-owner@' || $2 || '.example', 'Pending owner', false) \
               RETURNING tenant_id, id) \
             INSERT INTO signup_confirmations (tenant_id, staff_id, token_hash, expires_at) \
             SELECT tenant_id, id, sha256(convert_to($2, 'UTF8')), now() + interval '1 day' FROM owner",
        )
        .bind(tenant.as_uuid())
        .bind(slug)
        .execute(&mut admin)
        .await
        .expect("signup confirmation");
        // The ISP's attachment limits (attachment_limits), and an upload a crash left pending
        // (pending_uploads: written only by the upload itself, so here directly).
        json_body(
            agent
                .put(
                    "/api/v1/console/settings/attachments",
                    &json!({"max_file_bytes": 5_000_000, "max_message_bytes": 20_000_000}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        sqlx::query(
            "INSERT INTO pending_uploads (tenant_id, object_key, created_at) \
             VALUES ($1, $1::text || '/crashed', now())",
        )
        .bind(tenant.as_uuid())
        .execute(&mut admin)
        .await
        .expect("pending upload");
        // An operator's support visit, entered (impersonations and its session).
        let mut operator = app.client("admin.localhost");
        json_body(
            operator
                .login_operator("operator@kabinet.example", PASSWORD)
                .await,
            StatusCode::OK,
        )
        .await;
        let visit = json_body(
            operator
                .post(
                    &format!("/api/v1/platform/tenants/{slug}/impersonations"),
                    &json!({"reason": "Isolation test visit", "minutes": 15}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        json_body(
            app.client(host)
                .post(
                    "/api/v1/auth/impersonation",
                    &json!({"token": visit["token"]}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    }
}

fn ticket_number(ticket: &Value) -> i64 {
    ticket["number"].as_i64().expect("ticket number")
}

async fn seed_incident_rating_and_invitation(
    app: &TestApp,
    host: &str,
    agent: &kabinet_tests::Client,
    subscriber: &kabinet_tests::Client,
    linked_ticket: i64,
) {
    let slug = host.trim_end_matches(".localhost");
    let tenant = tenant_id(app, slug).await;
    let mut admin = app.db.admin().await.expect("admin");
    let nas: Uuid =
        sqlx::query_scalar("SELECT id FROM nas WHERE tenant_id = $1 AND name = 'seed-bras'")
            .bind(tenant.as_uuid())
            .fetch_one(&mut admin)
            .await
            .expect("seeded NAS");
    // Its (not yet) suggested outage, dismissed (incident_suggestion_dismissals).
    assert_eq!(
        agent
            .post(
                &format!("/api/v1/console/incident-suggestions/{nas}/dismiss"),
                &json!({}),
            )
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let incident = json_body(
        agent
            .post(
                "/api/v1/console/incidents",
                &json!({"title": "Seed outage", "message": "Cable cut",
                        "area": {"nas_ids": [nas], "area_codes": [], "address_fragments": []}}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let iid = incident["id"].as_str().expect("incident id");
    json_body(
        agent
            .post(
                &format!("/api/v1/console/incidents/{iid}/tickets"),
                &json!({"ticket_numbers": [linked_ticket]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let update = agent
        .post(
            &format!("/api/v1/console/incidents/{iid}/updates"),
            &json!({"id": Uuid::now_v7(), "body": "Crew on site"}),
        )
        .await;
    assert!(
        update.status().is_success(),
        "incident update: {}",
        update.status()
    );

    let rated = subscriber
        .open_ticket("speed", "Slow evenings", "Since Monday")
        .await;
    let rated_id = rated["id"].as_str().expect("id");
    json_body(
        agent
            .put(
                &format!("/api/v1/console/tickets/{rated_id}/status"),
                &json!({"status": "resolved"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let rating = subscriber
        .put(
            &format!("/api/v1/me/tickets/{rated_id}/rating"),
            &json!({"score": 4, "comment": "Fixed"}),
        )
        .await;
    assert!(rating.status().is_success(), "rating: {}", rating.status());

    let invitation = agent
        .post(
            "/api/v1/console/invitations",
            &json!({"email": format!("invitee@{slug}.example"),
                    "role": {"kind": "built_in", "role": "support_agent"}}),
        )
        .await;
    assert_eq!(invitation.status(), StatusCode::CREATED);
}

async fn tenant_id(app: &TestApp, slug: &str) -> TenantId {
    let mut admin = app.db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_one(&mut admin)
            .await
            .expect("tenant"),
    )
}

fn is_refusal(err: &sqlx::Error) -> bool {
    // 42501: insufficient privilege / new row violates row-level security policy.
    matches!(err, sqlx::Error::Database(e) if e.code().as_deref() == Some("42501"))
}

#[tokio::test]
async fn rows_of_one_isp_are_invisible_and_untouchable_from_another() {
    let (app, _stripe) = TestApp::spawn_with_stripe().await.expect("app");
    seed_both_tenants(&app).await;
    let a = tenant_id(&app, "demo").await;
    let b = tenant_id(&app, "northnet").await;
    let mut admin = app.db.admin().await.expect("admin");
    let tables = tenant_tables(&mut admin).await;
    assert!(tables.contains(&"tickets".to_owned()));

    for table in &tables {
        let sample: Option<Value> = sqlx::query_scalar(&format!(
            "SELECT row_to_json(t) FROM {table} t WHERE tenant_id = $1 LIMIT 1"
        ))
        .bind(a.as_uuid())
        .fetch_optional(&mut admin)
        .await
        .expect("sample");
        let sample = sample.unwrap_or_else(|| {
            panic!("{table} has no rows for the demo ISP: extend seed_both_tenants so isolation covers it")
        });

        // Scoped to A, A's rows are there (the policy is not simply "deny all").
        let mut tx = app.db.db.tenant_tx(a).await.expect("tx");
        let own: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(tx.conn())
            .await
            .expect("count");
        assert!(own > 0, "{table}: the demo ISP cannot see its own rows");
        let foreign: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {table} WHERE tenant_id <> $1"
        ))
        .bind(a.as_uuid())
        .fetch_one(tx.conn())
        .await
        .expect("count");
        assert_eq!(foreign, 0, "{table}: the demo ISP sees other ISPs' rows");
        drop(tx);

        // Scoped to B: A's rows cannot be read, updated or deleted.
        let mut tx = app.db.db.tenant_tx(b).await.expect("tx");
        let seen: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {table} WHERE tenant_id = $1"
        ))
        .bind(a.as_uuid())
        .fetch_one(tx.conn())
        .await
        .expect("count");
        assert_eq!(seen, 0, "{table}: northnet reads demo's rows");
        match sqlx::query(&format!(
            "UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = $1"
        ))
        .bind(a.as_uuid())
        .execute(tx.conn())
        .await
        {
            Ok(done) => assert_eq!(
                done.rows_affected(),
                0,
                "{table}: northnet updates demo's rows"
            ),
            Err(e) => assert!(is_refusal(&e), "{table}: unexpected error {e}"),
        }
        drop(tx);
        let mut tx = app.db.db.tenant_tx(b).await.expect("tx");
        match sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1"))
            .bind(a.as_uuid())
            .execute(tx.conn())
            .await
        {
            Ok(done) => assert_eq!(
                done.rows_affected(),
                0,
                "{table}: northnet deletes demo's rows"
            ),
            Err(e) => assert!(is_refusal(&e), "{table}: unexpected error {e}"),
        }
        drop(tx);

        // Scoped to B: a row carrying A's tenant id cannot be inserted.
        let mut forged = sample.clone();
        if let Some(id) = forged.get_mut("id") {
            *id = json!(Uuid::now_v7());
        }
        let mut tx = app.db.db.tenant_tx(b).await.expect("tx");
        // Every column but generated ones (PostgreSQL refuses any value for those).
        let columns: String = sqlx::query_scalar(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute \
             WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''",
        )
        .bind(table.as_str())
        .fetch_one(tx.conn())
        .await
        .expect("columns");
        let err = sqlx::query(&format!(
            "INSERT INTO {table} ({columns}) SELECT {columns} FROM jsonb_populate_record(NULL::{table}, $1)"
        ))
        .bind(&forged)
        .execute(tx.conn())
        .await
        .expect_err(&format!("{table}: northnet inserted a row for demo"));
        assert!(
            is_refusal(&err),
            "{table}: refused for the wrong reason: {err}"
        );
        drop(tx);

        // With no tenant at all (a platform transaction), tenant rows do not exist.
        let mut tx = app.db.db.platform_tx().await.expect("tx");
        let unscoped: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(tx.conn())
            .await
            .expect("count");
        assert_eq!(unscoped, 0, "{table}: visible without a tenant");
    }
    assert_ne!(a, b);
}
