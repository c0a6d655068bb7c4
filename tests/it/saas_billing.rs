//! SaaS billing against the fake Stripe: every ISP becomes a customer with one metered
//! subscription (once, however often the sync runs); the daily usage report (active subscribers)
//! reaches Stripe exactly once per ISP and day — two runs, two concurrent nodes, a crash between
//! recording and sending and one between sending and marking; a period closed at Stripe bills
//! that figure; a failed invoice puts the ISP into dunning (warning) and paying it clears it, as
//! the console and the operator see; forged and unsigned platform events are refused. The owner
//! adds and replaces the subscription's card through Checkout in `setup` mode (applied once,
//! by their return or by the webhook, never rolled back by a late event; owner only), and the
//! operator's tenant list carries each row's billing.

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use kabinet_core::TenantId;
use kabinet_db::{Database, sqlx};
use kabinet_payments::saas_billing::{
    SendReport, record_daily_usage, run_saas_billing, send_usage_reports, sync_subscriptions,
    usage_identifier,
};
use kabinet_payments::{Stripe, StripeSettings};
use kabinet_tests::{
    Client, FakeConfig, FakeStripe, PASSWORD, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, TestApp,
    assert_problem, json_body,
};
use reqwest::StatusCode;
use serde_json::Value;

const DEMO: &str = "demo.localhost";
const OWNER: &str = "owner@demo.example";

fn stripe_client(fake: &FakeStripe) -> Stripe {
    Stripe::new(&StripeSettings {
        secret_key: STRIPE_SECRET_KEY.into(),
        webhook_secret: STRIPE_WEBHOOK_SECRET.into(),
        api_base: Some(fake.base_url()),
    })
    .expect("stripe client")
}

async fn scalar<T>(app: &TestApp, sql: &str, tenant: TenantId) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar(sql)
        .bind(tenant.as_uuid())
        .fetch_one(&mut admin)
        .await
        .expect(sql)
}

async fn demo(app: &TestApp) -> TenantId {
    let mut admin = app.db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
            .fetch_one(&mut admin)
            .await
            .expect("demo"),
    )
}

/// Every ISP's usage figures, as the scheduler's round measures them.
async fn measure_all(db: &Database, app: &TestApp) {
    let mut admin = app.db.admin().await.expect("admin");
    let tenants: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM tenants")
        .fetch_all(&mut admin)
        .await
        .expect("tenants");
    for tenant in tenants {
        let mut tx = db.tenant_tx(TenantId(tenant)).await.expect("tx");
        kabinet_tenancy::record_usage(&mut tx).await.expect("usage");
        tx.commit().await.expect("commit");
    }
}

fn events_of(fake: &FakeStripe, customer: &str) -> Vec<kabinet_fake_stripe::MeterEvent> {
    fake.meter_events()
        .into_iter()
        .filter(|e| e.payload.get("stripe_customer_id").map(String::as_str) == Some(customer))
        .collect()
}

async fn operator(app: &TestApp) -> Client {
    let mut op = app.client("admin.localhost");
    json_body(
        op.login_operator("operator@kabinet.example", PASSWORD)
            .await,
        StatusCode::OK,
    )
    .await;
    op
}

/// Polls the demo ISP's dunning state until it is `want`.
async fn wait_for_state(app: &TestApp, tenant: TenantId, want: &str) {
    for _ in 0..100 {
        let state: Option<String> = {
            let mut admin = app.db.admin().await.expect("admin");
            sqlx::query_scalar("SELECT state FROM saas_billing WHERE tenant_id = $1")
                .bind(tenant.as_uuid())
                .fetch_optional(&mut admin)
                .await
                .expect("state")
        };
        if state.as_deref().unwrap_or("current") == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the ISP never reached {want}");
}

#[tokio::test]
async fn usage_reaches_stripe_once_per_isp_and_day() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    let stripe = stripe_client(&fake);
    let db = &app.db.db;
    let demo = demo(&app).await;

    // Customers and metered subscriptions: created once, whatever reruns.
    let first = sync_subscriptions(db, &stripe).await.expect("sync");
    let isps: i64 = {
        let mut admin = app.db.admin().await.expect("admin");
        sqlx::query_scalar("SELECT count(*) FROM tenants")
            .fetch_one(&mut admin)
            .await
            .expect("count")
    };
    assert_eq!(i64::from(first.subscriptions_created), isps);
    assert_eq!(i64::from(first.customers_created), isps);
    let again = sync_subscriptions(db, &stripe).await.expect("sync");
    assert_eq!(again, Default::default(), "nothing to do the second time");
    let customer: String = scalar(
        &app,
        "SELECT customer_id FROM saas_billing_customers WHERE tenant_id = $1",
        demo,
    )
    .await;
    assert_eq!(fake.subscriptions_of(&customer).len(), 1);

    measure_all(db, &app).await;
    let active: i64 = scalar(
        &app,
        "SELECT count(*) FROM accounts WHERE tenant_id = $1 AND status = 'active'",
        demo,
    )
    .await;
    assert!(active > 0, "the demo ISP has active subscribers");

    // Yesterday's report is recorded, then the node dies before sending it.
    let now = Utc::now();
    let yesterday = now - Days::days(1);
    let recorded = record_daily_usage(db, yesterday.date_naive(), yesterday)
        .await
        .expect("record");
    assert_eq!(i64::try_from(recorded).expect("u64"), isps);
    assert!(fake.meter_events().is_empty(), "nothing sent yet");
    // Recording again (a rerun, another node) changes nothing.
    assert_eq!(
        record_daily_usage(db, yesterday.date_naive(), yesterday)
            .await
            .expect("record"),
        0
    );

    // Two nodes run the whole job at once, then it runs once more: yesterday's report (left
    // over from the crash) and today's each reach Stripe once.
    let second = stripe_client(&fake);
    let (a, b) = tokio::join!(
        run_saas_billing(db, &stripe, now),
        run_saas_billing(db, &second, now)
    );
    let (a, b) = (a.expect("node a").1, b.expect("node b").1);
    assert_eq!(i64::from(a.sent + b.sent), 2 * isps, "{a:?} {b:?}");
    run_saas_billing(db, &stripe, now).await.expect("rerun");
    let sent = events_of(&fake, &customer);
    assert_eq!(sent.len(), 2, "one report per day: {sent:?}");
    for event in &sent {
        assert_eq!(event.payload["value"], active.to_string());
        assert_eq!(event.event_name, "kabinet_active_subscribers");
    }
    let mut identifiers: Vec<_> = sent.iter().map(|e| e.identifier.clone()).collect();
    identifiers.sort();
    let mut expected = vec![
        usage_identifier(demo, yesterday.date_naive()),
        usage_identifier(demo, now.date_naive()),
    ];
    expected.sort();
    assert_eq!(identifiers, expected);
    assert_eq!(
        i64::try_from(fake.meter_events().len()).expect("len"),
        2 * isps
    );

    // A node sent today's report and died before marking it: the lease runs out and it is sent
    // again under the same identifier, which Stripe counts once.
    {
        let mut admin = app.db.admin().await.expect("admin");
        sqlx::query(
            "UPDATE saas_usage_reports SET sent_at = NULL, claimed_until = NULL \
             WHERE tenant_id = $1 AND day = $2",
        )
        .bind(demo.as_uuid())
        .bind(now.date_naive())
        .execute(&mut admin)
        .await
        .expect("unmark");
    }
    let resent = send_usage_reports(db, &stripe, now).await.expect("send");
    assert_eq!(resent, SendReport { sent: 1, failed: 0 });
    assert_eq!(events_of(&fake, &customer).len(), 2, "still one per day");
    let attempts: i32 = scalar(
        &app,
        "SELECT max(attempts) FROM saas_usage_reports WHERE tenant_id = $1",
        demo,
    )
    .await;
    assert_eq!(attempts, 2);

    // The period closes at Stripe: the invoice bills the last reported figure at the plan price.
    let subscription: String = scalar(
        &app,
        "SELECT subscription_id FROM saas_billing_customers WHERE tenant_id = $1",
        demo,
    )
    .await;
    let price: i64 = scalar(
        &app,
        "SELECT p.price_per_subscriber FROM tenants t JOIN saas_plans p ON p.code = t.saas_plan WHERE t.id = $1",
        demo,
    )
    .await;
    let invoice = fake
        .close_billing_period(&subscription, false)
        .await
        .expect("close");
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["lines"]["data"][0]["quantity"], active);
    assert_eq!(invoice["amount_due"], active * price);
}

#[tokio::test]
async fn a_failed_invoice_starts_dunning_and_paying_it_clears_it() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    let stripe = stripe_client(&fake);
    let db = &app.db.db;
    let demo = demo(&app).await;
    sync_subscriptions(db, &stripe).await.expect("sync");
    measure_all(db, &app).await;
    run_saas_billing(db, &stripe, Utc::now())
        .await
        .expect("report");
    let active: i64 = scalar(
        &app,
        "SELECT count(*) FROM accounts WHERE tenant_id = $1 AND status = 'active'",
        demo,
    )
    .await;
    let customer: String = scalar(
        &app,
        "SELECT customer_id FROM saas_billing_customers WHERE tenant_id = $1",
        demo,
    )
    .await;
    let subscription: String = scalar(
        &app,
        "SELECT subscription_id FROM saas_billing_customers WHERE tenant_id = $1",
        demo,
    )
    .await;

    // The ISP's card declines: invoice.payment_failed → warning.
    fake.set_card_declines(&customer, true);
    let invoice = fake
        .close_billing_period(&subscription, true)
        .await
        .expect("close");
    assert_eq!(invoice["status"], "open");
    let invoice_id = invoice["id"].as_str().expect("id").to_owned();
    wait_for_state(&app, demo, "past_due").await;
    let letters: i64 = scalar(
        &app,
        "SELECT count(*) FROM mail_outbox WHERE tenant_id = $1 AND idempotency_key LIKE 'saas-dunning:%:past_due:%'",
        demo,
    )
    .await;
    assert!(letters >= 1, "the owner is warned");

    let staff = app.staff(DEMO, OWNER).await;
    let billing = json_body(
        staff.get("/api/v1/console/plan/billing").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(billing["state"], "past_due");
    assert_eq!(billing["subscribed"], true);
    assert!(billing["next_step_at"].is_string());
    assert_eq!(billing["usage_reports"][0]["active_subscribers"], active);
    assert!(billing["usage_reports"][0]["sent_at"].is_string());
    assert_eq!(billing["invoices"][0]["id"], invoice_id.as_str());
    assert_eq!(billing["invoices"][0]["status"], "open");
    assert_eq!(billing["invoices"][0]["payment_failed"], true);
    assert_eq!(billing["invoices"][0]["quantity"], active);

    // Redelivering the failure changes nothing.
    let failed_event = fake
        .events()
        .into_iter()
        .find(|e| {
            e["type"] == "invoice.payment_failed"
                && e["data"]["object"]["id"] == invoice_id.as_str()
        })
        .expect("failed event");
    let status = fake
        .deliver(failed_event["id"].as_str().expect("id"), None)
        .await
        .expect("redeliver");
    assert_eq!(status, 200);
    wait_for_state(&app, demo, "past_due").await;

    // The card works again and the invoice is paid: back to current.
    fake.set_card_declines(&customer, false);
    let paid = fake.retry_invoice(&invoice_id, true).await.expect("pay");
    assert_eq!(paid["status"], "paid");
    wait_for_state(&app, demo, "current").await;
    // A late copy of the old failure does not reopen the episode.
    fake.deliver(failed_event["id"].as_str().expect("id"), None)
        .await
        .expect("late");
    wait_for_state(&app, demo, "current").await;

    let op = operator(&app).await;
    let seen = json_body(
        op.get("/api/v1/platform/tenants/demo/billing").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["state"], "current");
    assert_eq!(seen["invoices"][0]["status"], "paid");
    assert_eq!(seen["invoices"][0]["payment_failed"], false);
    // The operator's endpoint is not the ISP's, and vice versa.
    assert_problem(
        staff.get("/api/v1/platform/tenants/demo/billing").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn forged_and_unsigned_platform_events_are_refused() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    let stripe = stripe_client(&fake);
    let db = &app.db.db;
    let demo = demo(&app).await;
    sync_subscriptions(db, &stripe).await.expect("sync");
    measure_all(db, &app).await;
    run_saas_billing(db, &stripe, Utc::now())
        .await
        .expect("report");
    let customer: String = scalar(
        &app,
        "SELECT customer_id FROM saas_billing_customers WHERE tenant_id = $1",
        demo,
    )
    .await;
    let subscription: String = scalar(
        &app,
        "SELECT subscription_id FROM saas_billing_customers WHERE tenant_id = $1",
        demo,
    )
    .await;
    fake.set_card_declines(&customer, true);
    let invoice = fake
        .close_billing_period(&subscription, false)
        .await
        .expect("close");
    let event: Value = fake
        .events()
        .into_iter()
        .find(|e| {
            e["type"] == "invoice.payment_failed" && e["data"]["object"]["id"] == invoice["id"]
        })
        .expect("event");
    let body = serde_json::to_string(&event).expect("json");
    let http = reqwest::Client::new();
    let endpoint = format!("http://{}/webhooks/stripe", app.addr);
    let now = Utc::now().timestamp();

    let unsigned = http
        .post(&endpoint)
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_problem(unsigned, StatusCode::BAD_REQUEST, "bad_signature_header").await;
    let forged = http
        .post(&endpoint)
        .header(
            "stripe-signature",
            format!("t={now},v1={}", "cd".repeat(32)),
        )
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_problem(forged, StatusCode::BAD_REQUEST, "bad_signature").await;
    // Signed by someone else's secret (another Stripe, another endpoint).
    let attacker = FakeStripe::start(
        "127.0.0.1:0".parse().expect("addr"),
        FakeConfig {
            secret_key: "sk_test_attacker".into(),
            webhook_secret: "whsec_attacker".into(),
            ..FakeConfig::default()
        },
    )
    .await
    .expect("attacker");
    let other = attacker.sign(&body, now);
    let wrong_key = http
        .post(&endpoint)
        .header("stripe-signature", other)
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_problem(wrong_key, StatusCode::BAD_REQUEST, "bad_signature").await;
    let state: Option<String> = {
        let mut admin = app.db.admin().await.expect("admin");
        sqlx::query_scalar("SELECT state FROM saas_billing WHERE tenant_id = $1")
            .bind(demo.as_uuid())
            .fetch_optional(&mut admin)
            .await
            .expect("state")
    };
    assert_eq!(
        state.as_deref().unwrap_or("current"),
        "current",
        "nothing applied"
    );

    // A genuinely signed invoice of a customer no ISP has is acknowledged and ignored.
    let stranger = body.replace(&customer, "cus_NotAnIspAtAll0000000000");
    let ignored = http
        .post(&endpoint)
        .header("stripe-signature", fake.sign(&stranger, now))
        .body(stranger)
        .send()
        .await
        .expect("post");
    let answer = json_body(ignored, StatusCode::OK).await;
    assert_eq!(answer["status"], "ignored");

    // The genuine one applies.
    let genuine = http
        .post(&endpoint)
        .header("stripe-signature", fake.sign(&body, now))
        .body(body)
        .send()
        .await
        .expect("post");
    let answer = json_body(genuine, StatusCode::OK).await;
    assert_eq!(answer["status"], "applied");
    wait_for_state(&app, demo, "past_due").await;
}

/// The fake Stripe's view of a platform customer, over its HTTP API as Stripe answers it.
async fn stripe_customer(fake: &FakeStripe, id: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(format!("{}v1/customers/{id}", fake.base_url()))
        .bearer_auth(STRIPE_SECRET_KEY)
        .send()
        .await
        .expect("customer");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.expect("json")
}

/// The session id at the end of a hosted Checkout URL (`…/checkout/pay/cs_…`).
fn session_of(url: &str) -> String {
    url.rsplit('/').next().expect("session").to_owned()
}

async fn card_audits(app: &TestApp, tenant: TenantId) -> Vec<(Option<uuid::Uuid>, Value)> {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_as(
        "SELECT staff_id, details FROM audit_log WHERE tenant_id = $1 \
           AND action = 'saas_billing.card_set' ORDER BY seq",
    )
    .bind(tenant.as_uuid())
    .fetch_all(&mut admin)
    .await
    .expect("audit")
}

#[tokio::test]
async fn the_owner_adds_and_replaces_the_subscription_card_through_checkout_setup() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    let stripe = stripe_client(&fake);
    let db = &app.db.db;
    let demo = demo(&app).await;
    sync_subscriptions(db, &stripe).await.expect("sync");
    let customer: String = scalar(
        &app,
        "SELECT customer_id FROM saas_billing_customers WHERE tenant_id = $1",
        demo,
    )
    .await;
    let owner = app.staff(DEMO, OWNER).await;
    let billing = json_body(
        owner.get("/api/v1/console/plan/billing").await,
        StatusCode::OK,
    )
    .await;
    assert!(billing.get("card").is_none(), "no card yet");

    // A setup session on the platform account for the ISP's customer, back to the console.
    let link = json_body(
        owner
            .post("/api/v1/console/plan/billing/card", &serde_json::json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let url = link["url"].as_str().expect("url");
    assert!(url.starts_with(&fake.base_url()), "{url}");
    let first = session_of(url);
    // Not completed yet: refused, nothing stored.
    assert_problem(
        owner
            .post(
                "/api/v1/console/plan/billing/card/complete",
                &serde_json::json!({ "session_id": first }),
            )
            .await,
        StatusCode::CONFLICT,
        "card_setup_incomplete",
    )
    .await;

    // The owner saves 4242 and comes back (the webhook is lost).
    fake.complete_checkout(
        &first,
        kabinet_fake_stripe::Completion {
            deliver: false,
            ..Default::default()
        },
    )
    .await
    .expect("complete");
    let complete = serde_json::json!({ "session_id": first });
    let card = json_body(
        owner
            .post("/api/v1/console/plan/billing/card/complete", &complete)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(card["brand"], "visa");
    assert_eq!(card["last4"], "4242");
    assert_eq!(card["exp_month"], 12);
    let at_stripe = stripe_customer(&fake, &customer).await;
    let default_pm = at_stripe["invoice_settings"]["default_payment_method"]
        .as_str()
        .expect("default payment method")
        .to_owned();
    assert!(default_pm.starts_with("pm_"));
    // A reload (or a retry) of the return changes nothing and audits nothing more.
    let again = json_body(
        owner
            .post("/api/v1/console/plan/billing/card/complete", &complete)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again, card);
    let audits = card_audits(&app, demo).await;
    assert_eq!(audits.len(), 1, "{audits:?}");
    assert!(audits[0].0.is_some(), "the owner did it");
    assert_eq!(audits[0].1["after"]["last4"], "4242");
    let billing = json_body(
        owner.get("/api/v1/console/plan/billing").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(billing["card"]["last4"], "4242");

    // Another ISP's session is not this ISP's to apply; junk is not found.
    assert_problem(
        owner
            .post(
                "/api/v1/console/plan/billing/card/complete",
                &serde_json::json!({ "session_id": "cs_test_nosuch" }),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Replaced with a Mastercard on the hosted page; the owner never comes back, the
    // platform's checkout.session.completed webhook applies it.
    let link = json_body(
        owner
            .post("/api/v1/console/plan/billing/card", &serde_json::json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let second = session_of(link["url"].as_str().expect("url"));
    assert_ne!(second, first);
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = page
        .post(link["url"].as_str().expect("url"))
        .form(&[("card", "5555 5555 5555 4444"), ("email", OWNER)])
        .send()
        .await
        .expect("hosted page");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let back = resp.headers()["location"].to_str().expect("location");
    assert!(
        back.ends_with(&format!("/console/plan?card_session={second}")),
        "{back}"
    );
    let mut last4 = String::new();
    for _ in 0..100 {
        last4 = scalar::<Option<String>>(
            &app,
            "SELECT card_last4 FROM saas_billing_customers WHERE tenant_id = $1",
            demo,
        )
        .await
        .unwrap_or_default();
        if last4 == "4444" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(last4, "4444", "the webhook set the new card");
    let at_stripe = stripe_customer(&fake, &customer).await;
    let new_pm = at_stripe["invoice_settings"]["default_payment_method"]
        .as_str()
        .expect("default")
        .to_owned();
    assert_ne!(new_pm, default_pm);
    let audits = card_audits(&app, demo).await;
    assert_eq!(audits.len(), 2);
    assert!(audits[1].0.is_none(), "the webhook did it");
    assert_eq!(audits[1].1["before"]["last4"], "4242");
    assert_eq!(audits[1].1["after"]["brand"], "mastercard");

    // A late copy of the first session's event, or a stale return, never brings 4242 back.
    let old_event = fake
        .events()
        .into_iter()
        .find(|e| {
            e["type"] == "checkout.session.completed" && e["data"]["object"]["id"] == first.as_str()
        })
        .expect("first completion");
    assert_eq!(
        fake.deliver(old_event["id"].as_str().expect("id"), None)
            .await
            .expect("deliver"),
        200
    );
    let stale = json_body(
        owner
            .post("/api/v1/console/plan/billing/card/complete", &complete)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stale["last4"], "4444");
    assert_eq!(
        stripe_customer(&fake, &customer).await["invoice_settings"]["default_payment_method"],
        new_pm.as_str()
    );
    assert_eq!(card_audits(&app, demo).await.len(), 2);

    // The next invoice is charged to the new card; the operator's list shows it in one row.
    let op = operator(&app).await;
    let list = json_body(op.get("/api/v1/platform/tenants").await, StatusCode::OK).await;
    let row = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["slug"] == "demo")
        .expect("demo row")
        .clone();
    assert_eq!(row["billing"]["state"], "current");
    assert_eq!(row["billing"]["subscribed"], true);
    assert_eq!(row["billing"]["has_card"], true);
}

#[tokio::test]
async fn only_the_owner_manages_the_subscription_card() {
    let (app, _fake) = TestApp::spawn_with_stripe().await.expect("app");
    let admin_email = "admin2@demo.example";
    crate::staff_roles::add_staff(&app, "demo", admin_email, kabinet_access::Role::Admin).await;
    let admin = app.staff(DEMO, admin_email).await;
    assert_problem(
        admin
            .post("/api/v1/console/plan/billing/card", &serde_json::json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        admin
            .post(
                "/api/v1/console/plan/billing/card/complete",
                &serde_json::json!({ "session_id": "cs_test_x" }),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Seeing the billing stays open to every staff member.
    json_body(
        admin.get("/api/v1/console/plan/billing").await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn the_tenant_list_carries_each_rows_billing() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    let stripe = stripe_client(&fake);
    let db = &app.db.db;
    let demo = demo(&app).await;
    sync_subscriptions(db, &stripe).await.expect("sync");
    measure_all(db, &app).await;
    run_saas_billing(db, &stripe, Utc::now())
        .await
        .expect("report");
    let customer: String = scalar(
        &app,
        "SELECT customer_id FROM saas_billing_customers WHERE tenant_id = $1",
        demo,
    )
    .await;
    let subscription: String = scalar(
        &app,
        "SELECT subscription_id FROM saas_billing_customers WHERE tenant_id = $1",
        demo,
    )
    .await;
    fake.set_card_declines(&customer, true);
    let invoice = fake
        .close_billing_period(&subscription, true)
        .await
        .expect("close");
    wait_for_state(&app, demo, "past_due").await;

    let op = operator(&app).await;
    let list = json_body(op.get("/api/v1/platform/tenants").await, StatusCode::OK).await;
    let items = list["items"].as_array().expect("items");
    assert!(items.len() >= 2);
    for row in items {
        assert!(
            row["billing"].is_object(),
            "every row has its billing: {row}"
        );
    }
    let row = items.iter().find(|r| r["slug"] == "demo").expect("demo");
    assert_eq!(row["billing"]["state"], "past_due");
    assert_eq!(row["billing"]["subscribed"], true);
    assert_eq!(row["billing"]["has_card"], false);
    assert_eq!(
        row["billing"]["last_invoice"]["amount_due"],
        invoice["amount_due"]
    );
    assert_eq!(row["billing"]["last_invoice"]["status"], "open");
    assert_eq!(row["billing"]["last_invoice"]["payment_failed"], true);
    let other = items.iter().find(|r| r["slug"] != "demo").expect("other");
    assert_eq!(other["billing"]["state"], "current");
    assert!(other["billing"].get("last_invoice").is_none());
}
