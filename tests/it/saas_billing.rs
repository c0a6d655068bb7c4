//! SaaS billing against the fake Stripe: every ISP becomes a customer with one metered
//! subscription (once, however often the sync runs); the daily usage report (active subscribers)
//! reaches Stripe exactly once per ISP and day — two runs, two concurrent nodes, a crash between
//! recording and sending and one between sending and marking; a period closed at Stripe bills
//! that figure; a failed invoice puts the ISP into dunning (warning) and paying it clears it, as
//! the console and the operator see; forged and unsigned platform events are refused.

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
