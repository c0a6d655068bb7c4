//! Online payments through (fake) Stripe: Checkout top-ups, signed webhooks applied exactly
//! once, foreign accounts, reconciliation of lost webhooks, saved cards and auto-pay.

use std::time::Duration;

use chrono::Utc;
use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_payments::{Discrepancy, Stripe, StripeSettings, reconcile, run_autopay};
use kabinet_tests::{
    Client, Completion, FakeStripe, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, TestApp, TestCard,
    assert_problem, json, json_body, pay_on_checkout_page,
};
use reqwest::StatusCode;
use serde_json::Value;

const VISA: &str = "4242424242424242";

fn stripe_client(fake: &FakeStripe) -> Stripe {
    Stripe::new(&StripeSettings {
        secret_key: STRIPE_SECRET_KEY.into(),
        webhook_secret: STRIPE_WEBHOOK_SECRET.into(),
        api_base: Some(fake.base_url()),
    })
    .expect("stripe client")
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

async fn balance(client: &Client) -> (i64, String) {
    let dash = json_body(client.get("/api/v1/me/dashboard").await, StatusCode::OK).await;
    (
        dash["account"]["balance"]["minor"]
            .as_i64()
            .expect("balance"),
        dash["account"]["status"]
            .as_str()
            .expect("status")
            .to_owned(),
    )
}

async fn start_top_up(client: &Client, amount_minor: i64, save_card: bool) -> (String, String) {
    let started = json_body(
        client
            .post(
                "/api/v1/me/payments/checkout",
                &json!({"amount_minor": amount_minor, "save_card": save_card}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    (
        started["payment_id"]
            .as_str()
            .expect("payment id")
            .to_owned(),
        started["checkout_url"].as_str().expect("url").to_owned(),
    )
}

fn session_id(checkout_url: &str) -> String {
    checkout_url
        .rsplit('/')
        .next()
        .expect("session id")
        .to_owned()
}

/// Polls the payment until it leaves `pending` (webhooks arrive asynchronously).
async fn settled(client: &Client, payment: &str) -> Value {
    for _ in 0..100 {
        let p = json_body(
            client
                .get(&format!("/api/v1/me/payments/online/{payment}"))
                .await,
            StatusCode::OK,
        )
        .await;
        if p["status"] != "pending" {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("payment {payment} stayed pending");
}

async fn movements(app: &TestApp, kind: &str) -> i64 {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar("SELECT count(*) FROM ledger_transactions WHERE kind = $1 AND idempotency_key LIKE 'online:%'")
        .bind(kind)
        .fetch_one(&mut admin)
        .await
        .expect("count")
}

/// Posts an event to the webhook endpoint exactly as Stripe would (raw body, signed).
async fn post_event(
    app: &TestApp,
    fake: &FakeStripe,
    event: &Value,
    signed_at: i64,
) -> reqwest::Response {
    let body = serde_json::to_string(event).expect("json");
    reqwest::Client::new()
        .post(format!("http://{}/webhooks/stripe", app.addr))
        .header("content-type", "application/json")
        .header("stripe-signature", fake.sign(&body, signed_at))
        .body(body)
        .send()
        .await
        .expect("webhook")
}

fn event_for(fake: &FakeStripe, kind: &str, session: &str) -> Value {
    fake.events()
        .into_iter()
        .find(|e| e["type"] == kind && e["data"]["object"]["id"] == session)
        .unwrap_or_else(|| panic!("no {kind} event for {session}"))
}

#[tokio::test]
async fn a_card_top_up_credits_once_and_lifts_a_debt_block() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    // 100002 is blocked for debt at -120.00.
    let client = app.subscriber("demo.localhost", "100002").await;
    assert_eq!(balance(&client).await, (-12_000, "blocked".into()));
    let options = json_body(
        client.get("/api/v1/me/payment-options").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(options["online"], true);

    let (payment, url) = start_top_up(&client, 50_000, false).await;
    let back = pay_on_checkout_page(&url, VISA)
        .await
        .expect("redirect back");
    assert!(back.starts_with("http://demo.localhost"), "{back}");
    assert!(
        back.ends_with(&format!("/payments?payment={payment}")),
        "{back}"
    );
    let p = settled(&client, &payment).await;
    assert_eq!(p["status"], "succeeded");
    assert_eq!(p["amount"]["minor"], 50_000);
    // Credited at once, and the debt block lifted at once.
    assert_eq!(balance(&client).await, (38_000, "active".into()));

    // Stripe delivers the same event again (a retry after a timeout): nothing changes.
    let completed = event_for(&fake, "checkout.session.completed", &session_id(&url));
    let status = fake
        .deliver(completed["id"].as_str().expect("id"), None)
        .await
        .expect("redeliver");
    assert_eq!(status, 200);
    assert_eq!(balance(&client).await, (38_000, "active".into()));
    assert_eq!(movements(&app, "payment").await, 1);

    // The platform's fee went to Stripe with the payment (1.5 % of 500.00), on the ISP's account.
    let intent = completed["data"]["object"]["payment_intent"]
        .as_str()
        .expect("intent");
    let pi: Value = reqwest::Client::new()
        .get(format!("{}v1/payment_intents/{intent}", fake.base_url()))
        .bearer_auth(STRIPE_SECRET_KEY)
        .header("stripe-account", kabinet_tests::DEMO_STRIPE_ACCOUNT)
        .send()
        .await
        .expect("intent")
        .json()
        .await
        .expect("json");
    assert_eq!(pi["application_fee_amount"], 750, "{pi}");
    assert_eq!(pi["amount"], 50_000);
}

#[tokio::test]
async fn webhooks_need_a_fresh_valid_signature() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    let client = app.subscriber("demo.localhost", "100001").await;
    let before = balance(&client).await;
    let (_, url) = start_top_up(&client, 10_000, false).await;
    fake.complete_checkout(
        &session_id(&url),
        Completion {
            card: TestCard::Visa4242,
            deliver: false,
        },
    )
    .await
    .expect("complete");
    let event = event_for(&fake, "checkout.session.completed", &session_id(&url));
    let body = serde_json::to_string(&event).expect("json");
    let http = reqwest::Client::new();
    let endpoint = format!("http://{}/webhooks/stripe", app.addr);

    // No header, a forged signature, a signature of another body, one 301 s old.
    let none = http
        .post(&endpoint)
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_problem(none, StatusCode::BAD_REQUEST, "bad_signature_header").await;
    let now = Utc::now().timestamp();
    let forged = http
        .post(&endpoint)
        .header(
            "stripe-signature",
            format!("t={now},v1={}", "ab".repeat(32)),
        )
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_problem(forged, StatusCode::BAD_REQUEST, "bad_signature").await;
    let tampered = body.replace("\"amount_total\":10000", "\"amount_total\":99999999");
    assert_ne!(tampered, body);
    let other_body = http
        .post(&endpoint)
        .header("stripe-signature", fake.sign(&body, now))
        .body(tampered)
        .send()
        .await
        .expect("post");
    assert_problem(other_body, StatusCode::BAD_REQUEST, "bad_signature").await;
    let stale = post_event(&app, &fake, &event, now - 301).await;
    assert_problem(stale, StatusCode::BAD_REQUEST, "stale_signature").await;
    assert_eq!(
        balance(&client).await,
        before,
        "nothing credited by refused deliveries"
    );

    // Within the tolerance (a late delivery, 250 s old) it is applied.
    let late = json_body(
        post_event(&app, &fake, &event, now - 250).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(late["status"], "applied");
    assert_eq!(balance(&client).await.0, before.0 + 10_000);
}

#[tokio::test]
async fn events_out_of_order_and_twice_at_once_credit_exactly_once() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    let client = app.subscriber("demo.localhost", "100001").await;
    let (start, _) = balance(&client).await;
    let (first, first_url) = start_top_up(&client, 20_000, false).await;
    let (second, second_url) = start_top_up(&client, 30_000, false).await;
    for url in [&first_url, &second_url] {
        fake.complete_checkout(
            &session_id(url),
            Completion {
                card: TestCard::Visa4242,
                deliver: false,
            },
        )
        .await
        .expect("complete");
    }
    let now = Utc::now().timestamp();
    let first_event = event_for(&fake, "checkout.session.completed", &session_id(&first_url));
    let second_event = event_for(
        &fake,
        "checkout.session.completed",
        &session_id(&second_url),
    );

    // The later payment's event first; then the earlier one delivered twice concurrently.
    let r = json_body(
        post_event(&app, &fake, &second_event, now).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["status"], "applied");
    let (a, b) = tokio::join!(
        post_event(&app, &fake, &first_event, now),
        post_event(&app, &fake, &first_event, now)
    );
    let mut outcomes = vec![
        json_body(a, StatusCode::OK).await["status"]
            .as_str()
            .expect("s")
            .to_owned(),
        json_body(b, StatusCode::OK).await["status"]
            .as_str()
            .expect("s")
            .to_owned(),
    ];
    outcomes.sort();
    assert_eq!(outcomes, ["applied", "duplicate"]);

    // An `expired` for a paid session arriving late leaves it paid.
    let mut expired = first_event.clone();
    expired["id"] = json!("evt_late_expiry_1");
    expired["type"] = json!("checkout.session.expired");
    let r = json_body(post_event(&app, &fake, &expired, now).await, StatusCode::OK).await;
    assert_eq!(r["status"], "ignored");

    assert_eq!(settled(&client, &first).await["status"], "succeeded");
    assert_eq!(settled(&client, &second).await["status"], "succeeded");
    assert_eq!(balance(&client).await.0, start + 50_000);
    assert_eq!(movements(&app, "payment").await, 2);
}

#[tokio::test]
async fn another_isps_stripe_account_can_never_credit_our_subscriber() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    let demo = app.subscriber("demo.localhost", "100001").await;
    let (start, _) = balance(&demo).await;
    let (payment, url) = start_top_up(&demo, 40_000, false).await;
    fake.complete_checkout(
        &session_id(&url),
        Completion {
            card: TestCard::Visa4242,
            deliver: false,
        },
    )
    .await
    .expect("complete");
    let genuine = event_for(&fake, "checkout.session.completed", &session_id(&url));
    let now = Utc::now().timestamp();

    // The same payload, claimed by NorthNet's account (metadata still names our payment).
    let mut foreign = genuine.clone();
    foreign["id"] = json!("evt_foreign_account_1");
    foreign["account"] = json!(kabinet_tests::NORTHNET_STRIPE_ACCOUNT);
    let r = json_body(post_event(&app, &fake, &foreign, now).await, StatusCode::OK).await;
    assert_eq!(r["status"], "ignored", "{r}");
    // And by an account no ISP connected.
    let mut unknown = genuine.clone();
    unknown["id"] = json!("evt_unknown_account_1");
    unknown["account"] = json!("acct_1SomebodyElse");
    let r = json_body(post_event(&app, &fake, &unknown, now).await, StatusCode::OK).await;
    assert_eq!(r["status"], "ignored");
    assert_eq!(balance(&demo).await.0, start);
    assert_eq!(settled_or_pending(&demo, &payment).await, "pending");

    // NorthNet's subscriber cannot read our payment either.
    let north = app.subscriber("northnet.localhost", "200001").await;
    assert_problem(
        north
            .get(&format!("/api/v1/me/payments/online/{payment}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // The genuine event still works.
    let r = json_body(post_event(&app, &fake, &genuine, now).await, StatusCode::OK).await;
    assert_eq!(r["status"], "applied");
    assert_eq!(balance(&demo).await.0, start + 40_000);
}

async fn settled_or_pending(client: &Client, payment: &str) -> String {
    json_body(
        client
            .get(&format!("/api/v1/me/payments/online/{payment}"))
            .await,
        StatusCode::OK,
    )
    .await["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

#[tokio::test]
async fn reconciliation_credits_payments_whose_webhook_was_lost() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    let stripe = stripe_client(&fake);
    let demo = tenant(&app, "demo").await;
    let client = app.subscriber("demo.localhost", "100001").await;
    let (start, _) = balance(&client).await;
    let (paid, paid_url) = start_top_up(&client, 25_000, false).await;
    let (abandoned, abandoned_url) = start_top_up(&client, 9_900, false).await;
    fake.complete_checkout(
        &session_id(&paid_url),
        Completion {
            card: TestCard::Visa4242,
            deliver: false,
        },
    )
    .await
    .expect("complete");
    fake.expire_checkout(&session_id(&abandoned_url), false)
        .await
        .expect("expire");
    assert_eq!(settled_or_pending(&client, &paid).await, "pending");

    let since = Utc::now() - chrono::Duration::hours(1);
    let report = reconcile(&app.state.db, &stripe, demo, since, Utc::now())
        .await
        .expect("reconcile");
    assert!(
        report
            .items
            .iter()
            .any(|d| matches!(d, Discrepancy::Repaired { .. })),
        "{report:?}"
    );
    assert!(
        report
            .items
            .iter()
            .any(|d| matches!(d, Discrepancy::Closed { status, .. } if status == "expired")),
        "{report:?}"
    );
    assert_eq!(report.unresolved(), 0, "{report:?}");
    assert_eq!(settled_or_pending(&client, &paid).await, "succeeded");
    assert_eq!(settled_or_pending(&client, &abandoned).await, "expired");
    assert_eq!(balance(&client).await.0, start + 25_000);

    // Run again: nothing left to do. Then the lost webhook finally arrives: no second credit.
    let again = reconcile(&app.state.db, &stripe, demo, since, Utc::now())
        .await
        .expect("reconcile");
    assert!(again.items.is_empty(), "{again:?}");
    let late = event_for(&fake, "checkout.session.completed", &session_id(&paid_url));
    fake.deliver(late["id"].as_str().expect("id"), None)
        .await
        .expect("deliver");
    assert_eq!(balance(&client).await.0, start + 25_000);
    assert_eq!(movements(&app, "payment").await, 1);

    // A card payment credited here that Stripe does not know is reported, never "repaired".
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query(
        "INSERT INTO online_payments (tenant_id, id, subscriber_id, purpose, amount_minor, currency, status, \
           stripe_account, checkout_session, transaction_id, settled_at) \
         SELECT tenant_id, gen_random_uuid(), subscriber_id, 'top_up', amount_minor, currency, 'succeeded', \
           stripe_account, 'cs_not_at_stripe', transaction_id, now() FROM online_payments WHERE id = $1::uuid",
    )
    .bind(&paid)
    .execute(&mut admin)
    .await
    .expect("forge");
    let forged = reconcile(&app.state.db, &stripe, demo, since, Utc::now())
        .await
        .expect("reconcile");
    assert!(forged.unresolved() >= 1, "{forged:?}");
}

#[tokio::test]
async fn auto_pay_charges_the_saved_card_once_a_day_and_pauses_on_decline() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    let stripe = stripe_client(&fake);
    let demo = tenant(&app, "demo").await;
    let client = app.subscriber("demo.localhost", "100001").await;

    // Without a saved card there is nothing to set up.
    assert_problem(
        client
            .put(
                "/api/v1/me/autopay",
                &json!({"enabled": true, "threshold_minor": 100, "amount_minor": 1000}),
            )
            .await,
        StatusCode::CONFLICT,
        "no_saved_card",
    )
    .await;

    let (payment, url) = start_top_up(&client, 10_000, true).await;
    pay_on_checkout_page(&url, VISA).await.expect("paid");
    assert_eq!(settled(&client, &payment).await["status"], "succeeded");
    // The card is read from Stripe after the credit; wait for it.
    let mut card = Value::Null;
    for _ in 0..100 {
        let options = json_body(
            client.get("/api/v1/me/payment-options").await,
            StatusCode::OK,
        )
        .await;
        card = options["autopay"]["card"].clone();
        if !card.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(card["last4"], "4242", "{card}");

    let (balance_now, _) = balance(&client).await;
    let rule = json_body(
        client
            .put(
                "/api/v1/me/autopay",
                &json!({"enabled": true, "threshold_minor": balance_now + 1, "amount_minor": 30_000}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rule["enabled"], true);

    let today = Utc::now();
    let run = run_autopay(&app.state.db, &stripe, demo, today)
        .await
        .expect("autopay");
    assert_eq!((run.attempted, run.succeeded, run.failed), (1, 1, 0));
    assert_eq!(balance(&client).await.0, balance_now + 30_000);
    // The same day again (another node, a rerun): nothing. The threshold is passed anyway,
    // so raise it to be sure only the daily key stops it.
    json_body(
        client
            .put(
                "/api/v1/me/autopay",
                &json!({"enabled": true, "threshold_minor": balance_now + 100_000, "amount_minor": 30_000}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let again = run_autopay(&app.state.db, &stripe, demo, today)
        .await
        .expect("autopay");
    assert_eq!(again.attempted, 0);

    // The next day the card is declined: the attempt fails, auto-pay pauses with the reason.
    let mut admin = app.db.admin().await.expect("admin");
    let customer: String = sqlx::query_scalar("SELECT stripe_customer FROM autopay_settings")
        .fetch_one(&mut admin)
        .await
        .expect("customer");
    fake.set_card_declines(&customer, true);
    let tomorrow = today + chrono::Duration::days(1);
    let declined = run_autopay(&app.state.db, &stripe, demo, tomorrow)
        .await
        .expect("autopay");
    assert_eq!((declined.attempted, declined.failed), (1, 1));
    let options = json_body(
        client.get("/api/v1/me/payment-options").await,
        StatusCode::OK,
    )
    .await;
    assert!(options["autopay"]["paused_reason"].is_string(), "{options}");
    assert_eq!(options["recent"][0]["status"], "failed");
    let paused = run_autopay(
        &app.state.db,
        &stripe,
        demo,
        tomorrow + chrono::Duration::days(1),
    )
    .await
    .expect("autopay");
    assert_eq!(paused.attempted, 0, "paused after a decline");
    assert_eq!(balance(&client).await.0, balance_now + 30_000);

    // Forgetting the card stops everything.
    let forgot = client.delete("/api/v1/me/card").await;
    assert_eq!(forgot.status(), StatusCode::NO_CONTENT);
    let options = json_body(
        client.get("/api/v1/me/payment-options").await,
        StatusCode::OK,
    )
    .await;
    assert!(options["autopay"]["card"].is_null());
}

#[tokio::test]
async fn without_stripe_card_payments_are_unavailable_and_bad_amounts_are_refused() {
    let app = TestApp::spawn().await.expect("app");
    let client = app.subscriber("demo.localhost", "100001").await;
    let options = json_body(
        client.get("/api/v1/me/payment-options").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(options["online"], false);
    assert_problem(
        client
            .post(
                "/api/v1/me/payments/checkout",
                &json!({"amount_minor": 10_000, "save_card": false}),
            )
            .await,
        StatusCode::CONFLICT,
        "online_payments_unavailable",
    )
    .await;
    let (app, _fake) = TestApp::spawn_with_stripe().await.expect("app");
    let client = app.subscriber("demo.localhost", "100001").await;
    for amount in [0, 99, 100_000_001] {
        let resp = client
            .post(
                "/api/v1/me/payments/checkout",
                &json!({"amount_minor": amount, "save_card": false}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{amount}");
    }
    // A declined card on the hosted page: the payment stays pending, nothing credited.
    let (start, _) = balance(&client).await;
    let (payment, url) = start_top_up(&client, 10_000, false).await;
    assert!(
        pay_on_checkout_page(&url, "4000000000000002")
            .await
            .is_err()
    );
    assert_eq!(settled_or_pending(&client, &payment).await, "pending");
    assert_eq!(balance(&client).await.0, start);
}

#[tokio::test]
async fn staff_refund_a_card_payment_to_the_card_once() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    let client = app.subscriber("demo.localhost", "100001").await;
    let (start, _) = balance(&client).await;
    let (payment, url) = start_top_up(&client, 60_000, false).await;
    pay_on_checkout_page(&url, VISA).await.expect("paid");
    assert_eq!(settled(&client, &payment).await["status"], "succeeded");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let ledger = json_body(
        owner.get("/api/v1/console/subscribers/100001/ledger").await,
        StatusCode::OK,
    )
    .await;
    let card_payment = ledger["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["kind"] == "payment" && m["amount"]["minor"] == 60_000)
        .expect("the card payment")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/api/v1/console/subscribers/100001/movements/{card_payment}/reversal");
    let refunded = json_body(
        owner
            .post(&path, &json!({"reason": "Paid twice by mistake"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(refunded["balance"]["minor"], start);
    // Stripe refunded the PaymentIntent in full and told us (charge.refunded): no second refund.
    for _ in 0..100 {
        if fake.events().iter().any(|e| e["type"] == "charge.refunded")
            && fake
                .deliveries()
                .iter()
                .any(|d| d.event_type == "charge.refunded" && d.status == Some(200))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refund_event = fake
        .events()
        .into_iter()
        .find(|e| e["type"] == "charge.refunded")
        .expect("charge.refunded");
    assert_eq!(refund_event["data"]["object"]["amount_refunded"], 60_000);
    assert_eq!(balance(&client).await.0, start);
    assert_problem(
        owner.post(&path, &json!({"reason": "again"})).await,
        StatusCode::CONFLICT,
        "already_refunded",
    )
    .await;
    let mut admin = app.db.admin().await.expect("admin");
    let refunds: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'refund'")
            .fetch_one(&mut admin)
            .await
            .expect("count");
    assert_eq!(refunds, 1);
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'payment.refund'")
            .fetch_one(&mut admin)
            .await
            .expect("audit");
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn cancelling_on_checkout_closes_the_session_and_a_paid_one_stays_paid() {
    let (app, fake) = TestApp::spawn_with_stripe().await.expect("app");
    let client = app.subscriber("demo.localhost", "100001").await;
    let (start, _) = balance(&client).await;
    let (cancelled, cancelled_url) = start_top_up(&client, 12_300, false).await;
    let after = json_body(
        client
            .post(
                &format!("/api/v1/me/payments/online/{cancelled}/cancel"),
                &json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after["status"], "expired");
    // Stripe closed the session: its page can no longer take the money.
    assert!(pay_on_checkout_page(&cancelled_url, VISA).await.is_err());
    assert_eq!(balance(&client).await.0, start);

    // Paid in another tab, then "cancel" from the first: still paid, credited once.
    let (paid, paid_url) = start_top_up(&client, 4_500, false).await;
    pay_on_checkout_page(&paid_url, VISA).await.expect("paid");
    assert_eq!(settled(&client, &paid).await["status"], "succeeded");
    let after = json_body(
        client
            .post(
                &format!("/api/v1/me/payments/online/{paid}/cancel"),
                &json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after["status"], "succeeded");
    assert_eq!(balance(&client).await.0, start + 4_500);
    let _ = fake;
}
