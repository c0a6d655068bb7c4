//! Connect onboarding from the console: an ISP without card payments opens its own Stripe
//! account through the (fake) Stripe's hosted onboarding and comes back able to take payments.

use kabinet_db::sqlx;
use kabinet_tests::{TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use reqwest::redirect::Policy;

const PAGE: &str = "/api/v1/console/settings/payments";

/// NorthNet as a new ISP would be: no Stripe account connected.
async fn without_stripe_account(app: &TestApp) {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query(
        "DELETE FROM stripe_accounts WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'northnet')",
    )
    .execute(&mut admin)
    .await
    .expect("forget the account");
}

/// Finishes onboarding on Stripe's hosted form as the owner's browser would (the form posts
/// back to its own URL); returns where Stripe sends the browser next.
async fn finish_on_stripe(url: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("http");
    let form = http.get(url).send().await.expect("form");
    assert_eq!(form.status(), StatusCode::OK, "the onboarding form opens");
    let done = http.post(url).send().await.expect("finish");
    assert!(done.status().is_redirection(), "{}", done.status());
    done.headers()[reqwest::header::LOCATION]
        .to_str()
        .expect("location")
        .to_owned()
}

#[tokio::test]
async fn an_isp_connects_card_payments_through_stripe_onboarding() {
    let (app, _fake) = TestApp::spawn_with_stripe().await.expect("app");
    without_stripe_account(&app).await;
    let owner = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    let subscriber = app.subscriber("northnet.localhost", "200001").await;

    let before = json_body(owner.get(PAGE).await, StatusCode::OK).await;
    assert_eq!(before["state"], "not_connected");
    assert_eq!(before["platform_ready"], true);
    assert!(before.get("account_id").is_none());

    assert_problem(
        owner
            .post(&format!("{PAGE}/onboarding"), &json!({"country": "R"}))
            .await,
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;

    // Pressing twice resumes the same account: one account per ISP, a fresh link each time.
    let first = json_body(
        owner
            .post(&format!("{PAGE}/onboarding"), &json!({"country": "ru"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let pending = json_body(owner.get(PAGE).await, StatusCode::OK).await;
    assert_eq!(pending["state"], "pending");
    let account = pending["account_id"].as_str().expect("account").to_owned();
    assert!(account.starts_with("acct_"), "{account}");
    let second = json_body(
        owner
            .post(&format!("{PAGE}/onboarding"), &json!({"country": "RU"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let again = json_body(owner.get(PAGE).await, StatusCode::OK).await;
    assert_eq!(again["account_id"], account.as_str(), "no second account");
    let url = second["url"].as_str().expect("url");
    assert_ne!(first["url"], second["url"], "a fresh link");
    assert!(url.contains(&account), "{url}");

    // While onboarding is unfinished, subscribers cannot pay by card yet.
    let options = json_body(
        subscriber.get("/api/v1/me/payment-options").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(options["online"], false, "{options}");
    assert_problem(
        subscriber
            .post(
                "/api/v1/me/payments/checkout",
                &json!({"amount_minor": 50_000, "save_card": false}),
            )
            .await,
        StatusCode::CONFLICT,
        "online_payments_unavailable",
    )
    .await;

    // Stripe sends the owner back to the console page, which asks Stripe for the account's state.
    let back = finish_on_stripe(url).await;
    assert!(back.starts_with("http://northnet.localhost:"), "{back}");
    assert!(
        back.ends_with("/console/settings/payments?stripe=return"),
        "{back}"
    );
    let after = json_body(
        owner.post(&format!("{PAGE}/refresh"), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after["state"], "enabled");
    assert_eq!(after["account_id"], account.as_str());

    let options = json_body(
        subscriber.get("/api/v1/me/payment-options").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(options["online"], true, "{options}");
    let checklist = json_body(
        owner.get("/api/v1/console/onboarding").await,
        StatusCode::OK,
    )
    .await;
    let payments = checklist["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["step"] == "payments")
        .expect("payments step");
    assert_eq!(payments["done"], true, "{checklist}");

    assert_problem(
        owner
            .post(&format!("{PAGE}/onboarding"), &json!({"country": "RU"}))
            .await,
        StatusCode::CONFLICT,
        "stripe_already_connected",
    )
    .await;

    // Both steps are in the ISP's audit log.
    let mut admin = app.db.admin().await.expect("admin");
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'northnet') \
           AND action LIKE 'payments.stripe_%' ORDER BY seq",
    )
    .fetch_all(&mut admin)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        [
            "payments.stripe_onboarding_started",
            "payments.stripe_onboarding_started",
            "payments.stripe_state_changed"
        ]
    );
}

#[tokio::test]
async fn only_settings_managers_connect_and_the_platform_needs_stripe() {
    let app = TestApp::spawn().await.expect("app");
    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    assert_problem(agent.get(PAGE).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_problem(
        agent
            .post(&format!("{PAGE}/onboarding"), &json!({"country": "RU"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // A platform without Stripe configured says so and starts nothing.
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let view = json_body(owner.get(PAGE).await, StatusCode::OK).await;
    assert_eq!(view["platform_ready"], false);
    assert_problem(
        owner
            .post(&format!("{PAGE}/onboarding"), &json!({"country": "RU"}))
            .await,
        StatusCode::CONFLICT,
        "online_payments_unavailable",
    )
    .await;
}
