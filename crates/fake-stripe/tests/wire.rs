//! Wire compatibility with the real `async-stripe` 1.0.0-rc.10 crates: every
//! response below is deserialized by async-stripe's generated types, and every
//! webhook is verified and parsed by `stripe_webhook::Webhook::construct_event`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kabinet_fake_stripe::{Completion, Config, FakeStripe, TestCard};
use poem::web::Data;
use poem::{EndpointExt, Request, Route, Server, handler, http::StatusCode, post};
use stripe::{ApiErrorsCode, ApiErrorsType, StripeError, StripeRequest};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionCustomerCreation, CreateCheckoutSessionLineItems,
    CreateCheckoutSessionLineItemsPriceData, CreateCheckoutSessionPaymentIntentData,
    CreateCheckoutSessionPaymentIntentDataSetupFutureUsage, ExpireCheckoutSession,
    ListCheckoutSession, ProductData, RetrieveCheckoutSession,
};
use stripe_checkout::{CheckoutSessionMode, CheckoutSessionPaymentStatus, CheckoutSessionStatus};
use stripe_connect::account::{
    CreateAccount, CreateAccountBusinessProfile, CreateAccountType, RetrieveAccount,
};
use stripe_connect::account_link::{CreateAccountLink, CreateAccountLinkType};
use stripe_core::PaymentIntentStatus;
use stripe_core::customer::{ListPaymentMethodsCustomer, RetrieveCustomer};
use stripe_core::payment_intent::{
    CreatePaymentIntent, CreatePaymentIntentOffSession, ListPaymentIntent, RetrievePaymentIntent,
};
use stripe_core::refund::{CreateRefund, ListRefund};
use stripe_payment::payment_method::{DetachPaymentMethod, ListPaymentMethod};
use stripe_shared::AccountId;
use stripe_types::{Currency, RangeQueryTs};
use stripe_webhook::{EventObject, EventType, Webhook, WebhookError};

const SECRET: &str = "sk_test_wire_51Kabinet";
const WEBHOOK_SECRET: &str = "whsec_wire_test";
const ACCT_A: &str = "acct_1WireAAAAAAAAAAA";
const ACCT_B: &str = "acct_1WireBBBBBBBBBBB";

/// A webhook endpoint that records what it receives and answers 500 to the
/// first `fail_first` requests.
#[derive(Default)]
struct Receiver {
    received: Mutex<Vec<(String, String)>>,
    fail_first: AtomicU32,
}

#[handler]
async fn receive(req: &Request, body: String, Data(rx): Data<&Arc<Receiver>>) -> StatusCode {
    let sig = req
        .headers()
        .get("Stripe-Signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        req.headers().get("Content-Type").unwrap(),
        "application/json; charset=utf-8"
    );
    assert!(
        req.headers()
            .get("User-Agent")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Stripe/1.0")
    );
    rx.received.lock().unwrap().push((body, sig));
    let failing = rx
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

impl Receiver {
    async fn start() -> (Arc<Self>, String) {
        let rx = Arc::new(Self::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks/stripe", listener.local_addr().unwrap());
        let app = Route::new()
            .at("/webhooks/stripe", post(receive))
            .data(Arc::clone(&rx));
        let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        (rx, url)
    }

    fn received(&self) -> Vec<(String, String)> {
        self.received.lock().unwrap().clone()
    }

    /// Waits for a delivered event of `kind`, verifies its signature and parses it.
    async fn event(&self, kind: EventType) -> stripe_webhook::Event {
        for _ in 0..100 {
            for (payload, sig) in self.received() {
                let event = Webhook::construct_event(&payload, &sig, WEBHOOK_SECRET)
                    .expect("every delivered event verifies and parses");
                if event.type_ == kind {
                    return event;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no {kind:?} event delivered");
    }

    /// The raw payload and signature of the delivered event `id`.
    async fn raw(&self, id: &str) -> (String, String) {
        for _ in 0..100 {
            if let Some(found) = self
                .received()
                .into_iter()
                .find(|(payload, _)| payload.contains(&format!("\"id\": \"{id}\"")))
            {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("event {id} not delivered");
    }
}

struct Setup {
    fake: FakeStripe,
    client: stripe::Client,
    rx: Arc<Receiver>,
    http: reqwest::Client,
}

async fn setup() -> Setup {
    let (rx, url) = Receiver::start().await;
    let fake = FakeStripe::start(
        "127.0.0.1:0".parse().unwrap(),
        Config {
            secret_key: SECRET.into(),
            webhook_secret: WEBHOOK_SECRET.into(),
            webhook_url: Some(url),
            accounts: vec![ACCT_A.into(), ACCT_B.into()],
            business_names: HashMap::from([(ACCT_A.into(), "Northwind Internet".into())]),
        },
    )
    .await
    .unwrap();
    let client = stripe::ClientBuilder::new(SECRET)
        .url(fake.base_url())
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Setup {
        fake,
        client,
        rx,
        http,
    }
}

fn acct(id: &str) -> AccountId {
    id.parse().unwrap()
}

fn usd() -> Currency {
    "usd".parse().unwrap()
}

/// A 500.00 USD session for an ISP invoice, saving the card for auto-pay.
fn invoice_session() -> CreateCheckoutSession {
    let mut price = CreateCheckoutSessionLineItemsPriceData::new(usd());
    price.unit_amount = Some(50_000);
    price.product_data = Some(ProductData::new("Invoice INV-2024-0042"));
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price_data = Some(price);
    item.quantity = Some(1);
    let mut pi_data = CreateCheckoutSessionPaymentIntentData::new();
    pi_data.application_fee_amount = Some(1_500);
    pi_data.setup_future_usage =
        Some(CreateCheckoutSessionPaymentIntentDataSetupFutureUsage::OffSession);
    pi_data.metadata = Some(HashMap::from([("payment_id".into(), "pay_77".into())]));
    CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Payment)
        .line_items(vec![item])
        .payment_intent_data(pi_data)
        .success_url("https://kabinet.test/pay/done?session={CHECKOUT_SESSION_ID}")
        .cancel_url("https://kabinet.test/pay/cancelled")
        .client_reference_id("invoice-42")
        .metadata(HashMap::from([("tenant".into(), "northwind".into())]))
}

fn api_error(err: StripeError) -> (stripe::ApiErrors, u16) {
    match err {
        StripeError::Stripe(err, status) => (*err, status),
        other => panic!("expected a Stripe API error, got {other:?}"),
    }
}

/// Pays a session through the hosted page; returns the completed session and its PaymentIntent id.
async fn pay_on_hosted_page(
    s: &Setup,
    session_id: &str,
) -> (stripe_shared::CheckoutSession, String) {
    let response = s
        .http
        .post(format!("{}checkout/pay/{session_id}", s.fake.base_url()))
        .form(&[
            ("card", "4242 4242 4242 4242"),
            ("email", "jane@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        format!("https://kabinet.test/pay/done?session={session_id}").as_str()
    );
    let event = s.rx.event(EventType::CheckoutSessionCompleted).await;
    let EventObject::CheckoutSessionCompleted(session) = event.data.object else {
        panic!("wrong event object");
    };
    let pi = session.payment_intent.as_ref().unwrap().id().to_string();
    (*session, pi)
}

#[tokio::test]
async fn checkout_sessions_create_retrieve_list_expire() {
    let s = setup().await;
    let session = invoice_session()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert!(session.id.as_str().starts_with("cs_test_"));
    assert_eq!(session.status, Some(CheckoutSessionStatus::Open));
    assert_eq!(session.payment_status, CheckoutSessionPaymentStatus::Unpaid);
    assert_eq!(session.mode, CheckoutSessionMode::Payment);
    assert_eq!(session.amount_total, Some(50_000));
    assert_eq!(session.currency, Some(usd()));
    assert_eq!(session.client_reference_id.as_deref(), Some("invoice-42"));
    assert_eq!(session.metadata.as_ref().unwrap()["tenant"], "northwind");
    assert!(session.payment_intent.is_none());
    assert!(!session.livemode);
    assert!(session.expires_at > session.created + 23 * 3600);
    let url = session.url.clone().unwrap();
    assert_eq!(
        url,
        format!("{}checkout/pay/{}", s.fake.base_url(), session.id)
    );

    let fetched = RetrieveCheckoutSession::new(session.id.clone())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(fetched.id, session.id);

    let second = invoice_session()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    let page = ListCheckoutSession::new()
        .limit(1)
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(page.data.len(), 1);
    assert!(page.has_more);
    assert_eq!(page.data[0].id, second.id, "newest first");
    let next = ListCheckoutSession::new()
        .starting_after(second.id.as_str())
        .created(RangeQueryTs::gte(session.created))
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(next.data.len(), 1);
    assert_eq!(next.data[0].id, session.id);
    assert!(!next.has_more);

    let expired = ExpireCheckoutSession::new(second.id.clone())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(expired.status, Some(CheckoutSessionStatus::Expired));
    assert!(expired.url.is_none());
    let event = s.rx.event(EventType::CheckoutSessionExpired).await;
    assert_eq!(event.account.as_deref(), Some(ACCT_A));
    let EventObject::CheckoutSessionExpired(obj) = event.data.object else {
        panic!("wrong event object");
    };
    assert_eq!(obj.id, second.id);

    let open_only = ListCheckoutSession::new()
        .status(CheckoutSessionStatus::Open)
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(open_only.data.len(), 1);

    // Expiring twice is a Stripe error.
    let (err, status) = api_error(
        ExpireCheckoutSession::new(second.id.clone())
            .customize()
            .account_id(acct(ACCT_A))
            .send(&s.client)
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 400);
    assert_eq!(err.type_, ApiErrorsType::InvalidRequestError);
}

#[tokio::test]
async fn hosted_checkout_completes_and_saves_the_card() {
    let s = setup().await;
    let session = invoice_session()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    let page_url = session.url.unwrap();

    let page = s.http.get(&page_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Northwind Internet"));
    assert!(html.contains("500.00 USD"));
    assert!(html.contains("4242 4242 4242 4242"));
    assert!(html.contains("https://kabinet.test/pay/cancelled"));

    let declined = s
        .http
        .post(&page_url)
        .form(&[("card", "4000 0000 0000 0002")])
        .send()
        .await
        .unwrap();
    assert_eq!(declined.status(), 402);
    assert!(
        declined
            .text()
            .await
            .unwrap()
            .contains("Your card was declined.")
    );
    let still_open = RetrieveCheckoutSession::new(session.id.clone())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(still_open.status, Some(CheckoutSessionStatus::Open));

    let (completed, pi_id) = pay_on_hosted_page(&s, session.id.as_str()).await;
    assert_eq!(completed.id, session.id);
    assert_eq!(completed.status, Some(CheckoutSessionStatus::Complete));
    assert_eq!(completed.payment_status, CheckoutSessionPaymentStatus::Paid);
    assert_eq!(completed.client_reference_id.as_deref(), Some("invoice-42"));
    let customer_id = completed.customer.as_ref().unwrap().id().to_string();
    assert_eq!(
        completed
            .customer_details
            .as_ref()
            .unwrap()
            .email
            .as_deref(),
        Some("jane@example.com")
    );

    let expanded = RetrieveCheckoutSession::new(session.id.clone())
        .expand(vec!["payment_intent".to_owned(), "customer".to_owned()])
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    let Some(stripe_types::Expandable::Object(expanded_pi)) = expanded.payment_intent else {
        panic!("payment_intent not expanded");
    };
    assert_eq!(expanded_pi.id.as_str(), pi_id);
    assert!(matches!(
        expanded.customer,
        Some(stripe_types::Expandable::Object(_))
    ));

    let intent = RetrievePaymentIntent::new(pi_id.as_str())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(intent.status, PaymentIntentStatus::Succeeded);
    assert_eq!(intent.amount, 50_000);
    assert_eq!(intent.amount_received, 50_000);
    assert_eq!(intent.application_fee_amount, Some(1_500));
    assert_eq!(intent.metadata["payment_id"], "pay_77");
    assert_eq!(intent.customer.as_ref().unwrap().id().as_str(), customer_id);
    assert!(
        intent
            .latest_charge
            .as_ref()
            .unwrap()
            .id()
            .as_str()
            .starts_with("ch_")
    );

    let customer = RetrieveCustomer::new(customer_id.as_str())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    let stripe_core::customer::RetrieveCustomerReturned::Customer(customer) = customer else {
        panic!("customer deleted");
    };
    assert_eq!(customer.email.as_deref(), Some("jane@example.com"));

    let methods = ListPaymentMethod::new()
        .customer(customer_id.as_str())
        .type_(stripe_payment::payment_method::ListPaymentMethodType::Card)
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(methods.data.len(), 1);
    let card = methods.data[0].card.as_ref().unwrap();
    assert_eq!(card.last4, "4242");
    assert_eq!(card.brand, "visa");
    assert_eq!(card.exp_month, 12);
    let same = ListPaymentMethodsCustomer::new(customer_id.as_str())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(same.data[0].id, methods.data[0].id);

    // Paying twice is refused.
    let again = s
        .http
        .post(&page_url)
        .form(&[("card", "4242424242424242")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);

    // The session is findable by its PaymentIntent (reconciliation).
    let by_pi = ListCheckoutSession::new()
        .payment_intent(pi_id.as_str())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(by_pi.data.len(), 1);
    assert_eq!(by_pi.data[0].id, session.id);
}

#[tokio::test]
async fn off_session_payment_intents_succeed_then_decline() {
    let s = setup().await;
    let session = invoice_session()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    let event = s
        .fake
        .complete_checkout(session.id.as_str(), Completion::default())
        .await
        .unwrap();
    let customer = event["data"]["object"]["customer"]
        .as_str()
        .unwrap()
        .to_owned();
    let methods = ListPaymentMethodsCustomer::new(customer.as_str())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    let pm = methods.data[0].id.to_string();

    let auto_pay = || {
        CreatePaymentIntent::new(12_345, usd())
            .customer(customer.as_str())
            .payment_method(pm.as_str())
            .off_session(CreatePaymentIntentOffSession::Bool(true))
            .confirm(true)
            .application_fee_amount(300)
            .metadata(HashMap::from([("invoice_id".into(), "inv_9".into())]))
    };
    let paid = auto_pay()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(paid.status, PaymentIntentStatus::Succeeded);
    assert_eq!(paid.amount_received, 12_345);
    let event = s.rx.event(EventType::PaymentIntentSucceeded).await;
    let EventObject::PaymentIntentSucceeded(obj) = event.data.object else {
        panic!("wrong event object");
    };
    assert_eq!(obj.id, paid.id);
    assert_eq!(obj.metadata["invoice_id"], "inv_9");
    assert_eq!(event.account.as_deref(), Some(ACCT_A));

    s.fake.set_card_declines(&customer, true);
    let (err, status) = api_error(
        auto_pay()
            .customize()
            .account_id(acct(ACCT_A))
            .send(&s.client)
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 402);
    assert_eq!(err.type_, ApiErrorsType::CardError);
    assert_eq!(err.code, Some(ApiErrorsCode::CardDeclined));
    assert_eq!(err.decline_code.as_deref(), Some("generic_decline"));
    let failed = err
        .payment_intent
        .expect("the failed PaymentIntent is in the error");
    assert_eq!(failed.status, PaymentIntentStatus::RequiresPaymentMethod);
    let last_error = failed.last_payment_error.unwrap();
    assert_eq!(last_error.code, Some(ApiErrorsCode::CardDeclined));
    let event = s.rx.event(EventType::PaymentIntentPaymentFailed).await;
    let EventObject::PaymentIntentPaymentFailed(obj) = event.data.object else {
        panic!("wrong event object");
    };
    assert_eq!(obj.id, failed.id);

    let listed = ListPaymentIntent::new()
        .customer(customer.as_str())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 3);
    assert_eq!(listed.data[0].id, failed.id);

    // Detached cards are gone from the customer.
    let detached = DetachPaymentMethod::new(pm.as_str())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert!(detached.customer.is_none());
    let methods = ListPaymentMethodsCustomer::new(customer.as_str())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert!(methods.data.is_empty());
}

#[tokio::test]
async fn refunds_partial_full_and_over_refund() {
    let s = setup().await;
    let session = invoice_session()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    let (_, pi) = pay_on_hosted_page(&s, session.id.as_str()).await;

    let partial = CreateRefund::new()
        .payment_intent(pi.as_str())
        .amount(10_000)
        .reason(stripe_core::refund::CreateRefundReason::RequestedByCustomer)
        .metadata(HashMap::from([("refund_id".into(), "r1".into())]))
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(partial.amount, 10_000);
    assert_eq!(partial.status.as_deref(), Some("succeeded"));
    assert_eq!(partial.payment_intent.as_ref().unwrap().id().as_str(), pi);
    let event = s.rx.event(EventType::ChargeRefunded).await;
    let EventObject::ChargeRefunded(charge) = event.data.object else {
        panic!("wrong event object");
    };
    assert_eq!(charge.amount_refunded, 10_000);
    assert!(!charge.refunded);
    s.rx.event(EventType::RefundCreated).await;

    let (err, status) = api_error(
        CreateRefund::new()
            .payment_intent(pi.as_str())
            .amount(40_001)
            .customize()
            .account_id(acct(ACCT_A))
            .send(&s.client)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (status, err.code),
        (400, Some(ApiErrorsCode::AmountTooLarge))
    );

    let rest = CreateRefund::new()
        .payment_intent(pi.as_str())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(rest.amount, 40_000);
    let (err, status) = api_error(
        CreateRefund::new()
            .payment_intent(pi.as_str())
            .customize()
            .account_id(acct(ACCT_A))
            .send(&s.client)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (status, err.code),
        (400, Some(ApiErrorsCode::ChargeAlreadyRefunded))
    );

    let refunds = ListRefund::new()
        .payment_intent(pi.as_str())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(refunds.data.len(), 2);
    assert_eq!(refunds.data[0].id, rest.id);
    let fully = s
        .fake
        .events()
        .into_iter()
        .rfind(|e| e["type"] == "charge.refunded")
        .unwrap();
    assert_eq!(fully["data"]["object"]["refunded"], true);
}

#[tokio::test]
async fn connect_account_onboarding() {
    let s = setup().await;
    let mut profile = CreateAccountBusinessProfile::new();
    profile.name = Some("Southside Fiber".into());
    let account = CreateAccount::new()
        .type_(CreateAccountType::Standard)
        .country("US")
        .email("owner@southside.test")
        .business_profile(profile)
        .send(&s.client)
        .await
        .unwrap();
    assert!(account.id.as_str().starts_with("acct_"));
    assert_eq!(account.charges_enabled, Some(false));
    assert_eq!(account.details_submitted, Some(false));

    let link = CreateAccountLink::new(
        account.id.as_str(),
        CreateAccountLinkType::AccountOnboarding,
    )
    .refresh_url("https://kabinet.test/connect/refresh")
    .return_url("https://kabinet.test/connect/return")
    .send(&s.client)
    .await
    .unwrap();
    assert!(link.expires_at > link.created);
    let page = s.http.get(&link.url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Finish onboarding"));

    let finish = s.http.post(&link.url).send().await.unwrap();
    assert_eq!(finish.status(), 303);
    assert_eq!(
        finish.headers()["location"],
        "https://kabinet.test/connect/return"
    );
    let event = s.rx.event(EventType::AccountUpdated).await;
    assert_eq!(event.account.as_deref(), Some(account.id.as_str()));
    let EventObject::AccountUpdated(updated) = event.data.object else {
        panic!("wrong event object");
    };
    assert_eq!(updated.charges_enabled, Some(true));
    assert!(event.data.previous_attributes.is_some());

    let fetched = RetrieveAccount::new(account.id.as_str())
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(fetched.charges_enabled, Some(true));
    assert_eq!(fetched.payouts_enabled, Some(true));
    assert_eq!(
        fetched.business_profile.unwrap().name.as_deref(),
        Some("Southside Fiber")
    );

    // A used link sends the user to refresh_url, like Stripe's single-use links.
    let reused = s.http.get(&link.url).send().await.unwrap();
    assert_eq!(reused.status(), 303);
    assert_eq!(
        reused.headers()["location"],
        "https://kabinet.test/connect/refresh"
    );

    // The new account can now be used as a Stripe-Account.
    invoice_session()
        .customize()
        .account_id(account.id.clone())
        .send(&s.client)
        .await
        .unwrap();
}

#[tokio::test]
async fn webhook_signatures_are_stripes() {
    let s = setup().await;
    let session = invoice_session()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    let event = s
        .fake
        .complete_checkout(session.id.as_str(), Completion::default())
        .await
        .unwrap();
    let id = event["id"].as_str().unwrap();
    assert!(id.starts_with("evt_"));
    assert_eq!(
        event["api_version"],
        stripe_shared::version::VERSION.as_str()
    );
    assert_eq!(event["object"], "event");
    assert_eq!(event["account"], ACCT_A);
    assert_eq!(event["pending_webhooks"], 1);
    assert_eq!(event["livemode"], false);
    let (payload, sig) = s.rx.raw(id).await;

    let verified = Webhook::construct_event(&payload, &sig, WEBHOOK_SECRET).unwrap();
    assert_eq!(verified.id.as_str(), id);
    assert_eq!(verified.api_version, Some(stripe_shared::version::VERSION));

    let tampered = payload.replace("50000", "50001");
    assert_ne!(tampered, payload);
    assert!(matches!(
        Webhook::construct_event(&tampered, &sig, WEBHOOK_SECRET),
        Err(WebhookError::BadSignature)
    ));
    assert!(matches!(
        Webhook::construct_event(&payload, &sig, "whsec_someone_else"),
        Err(WebhookError::BadSignature)
    ));

    // The header is exactly what Stripe's own test helper produces.
    let t: i64 = sig[2..sig.find(',').unwrap()].parse().unwrap();
    assert_eq!(
        sig,
        Webhook::generate_test_header(&payload, WEBHOOK_SECRET, Some(t))
    );
    assert_eq!(s.fake.sign(&payload, t), sig);

    // A redelivery signed more than 300 s ago is rejected by the receiver's check.
    let stale_at = chrono::Utc::now().timestamp() - 301;
    let before = s.rx.received().len();
    assert_eq!(s.fake.deliver(id, Some(stale_at)).await.unwrap(), 200);
    let (stale_payload, stale_sig) = s.rx.received()[before].clone();
    assert_eq!(stale_payload, payload, "redeliveries are byte-identical");
    assert!(stale_sig.starts_with(&format!("t={stale_at},")));
    assert!(matches!(
        Webhook::construct_event(&stale_payload, &stale_sig, WEBHOOK_SECRET),
        Err(WebhookError::BadTimestamp(t)) if t == stale_at
    ));
    let deliveries: Vec<_> = s
        .fake
        .deliveries()
        .into_iter()
        .filter(|d| d.event_id == id)
        .collect();
    assert_eq!(deliveries.len(), 2);
    assert_eq!(deliveries[1].attempt, 2);
    assert_eq!(deliveries[1].status, Some(200));
}

#[tokio::test]
async fn undelivered_events_can_be_delivered_later_and_failures_are_retried() {
    let s = setup().await;
    let first = invoice_session()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    let event = s
        .fake
        .complete_checkout(
            first.id.as_str(),
            Completion {
                card: TestCard::Visa4242,
                deliver: false,
            },
        )
        .await
        .unwrap();
    let id = event["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(s.rx.received().is_empty(), "deliver=false sends nothing");
    assert!(s.fake.deliveries().is_empty());
    assert_eq!(s.fake.events().last().unwrap()["id"], id.as_str());
    // The payment did happen at "Stripe".
    let session = RetrieveCheckoutSession::new(first.id.clone())
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(session.payment_status, CheckoutSessionPaymentStatus::Paid);

    assert_eq!(s.fake.deliver(&id, None).await.unwrap(), 200);
    s.rx.raw(&id).await;

    // The receiver fails twice; automatic delivery retries until it answers 2xx.
    s.rx.fail_first.store(2, Ordering::SeqCst);
    let second = invoice_session()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    let event = s
        .fake
        .expire_checkout(second.id.as_str(), true)
        .await
        .unwrap();
    let id = event["id"].as_str().unwrap().to_owned();
    let mut statuses = Vec::new();
    for _ in 0..100 {
        statuses = s
            .fake
            .deliveries()
            .into_iter()
            .filter(|d| d.event_id == id)
            .map(|d| (d.attempt, d.status))
            .collect();
        if statuses.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        statuses,
        vec![(1, Some(500)), (2, Some(500)), (3, Some(200))]
    );

    // Declined cards leave the session open and create no event.
    let third = invoice_session()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    let events_before = s.fake.events().len();
    let err = s
        .fake
        .complete_checkout(
            third.id.as_str(),
            Completion {
                card: TestCard::Declined,
                deliver: true,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        kabinet_fake_stripe::FakeError::CardDeclined { .. }
    ));
    assert_eq!(s.fake.events().len(), events_before);
}

#[tokio::test]
async fn accounts_are_isolated_and_auth_is_enforced() {
    let s = setup().await;
    let session = invoice_session()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();

    for other in [Some(ACCT_B), None] {
        let request = RetrieveCheckoutSession::new(session.id.clone()).customize();
        let request = match other {
            Some(id) => request.account_id(acct(id)),
            None => request,
        };
        let (err, status) = api_error(request.send(&s.client).await.unwrap_err());
        assert_eq!(status, 404);
        assert_eq!(err.code, Some(ApiErrorsCode::ResourceMissing));
        assert_eq!(err.param.as_deref(), Some("id"));
    }
    let listed = ListCheckoutSession::new()
        .customize()
        .account_id(acct(ACCT_B))
        .send(&s.client)
        .await
        .unwrap();
    assert!(listed.data.is_empty());
    assert_eq!(listed.url, "/v1/checkout/sessions");

    let (err, status) = api_error(
        invoice_session()
            .customize()
            .account_id(acct("acct_1Unknown"))
            .send(&s.client)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (status, err.code),
        (403, Some(ApiErrorsCode::AccountInvalid))
    );

    let wrong_key = stripe::ClientBuilder::new("sk_test_wrong")
        .url(s.fake.base_url())
        .build()
        .unwrap();
    let (err, status) = api_error(invoice_session().send(&wrong_key).await.unwrap_err());
    assert_eq!(status, 401);
    assert!(err.message.unwrap().starts_with("Invalid API Key provided"));

    // `curl -u sk_test_...:` style Basic auth works too.
    let basic = s
        .http
        .get(format!("{}v1/checkout/sessions", s.fake.base_url()))
        .basic_auth(SECRET, Some(""))
        .header("Stripe-Account", ACCT_A)
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
}

#[tokio::test]
async fn validation_errors_and_idempotency() {
    let s = setup().await;
    let (err, status) = api_error(
        CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .success_url("https://kabinet.test/ok")
            .customize()
            .account_id(acct(ACCT_A))
            .send(&s.client)
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 400);
    assert_eq!(err.code, Some(ApiErrorsCode::ParameterMissing));
    assert_eq!(err.param.as_deref(), Some("line_items"));

    let (err, _) = api_error(
        invoice_session()
            .customer("cus_missing")
            .customize()
            .account_id(acct(ACCT_A))
            .send(&s.client)
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code, Some(ApiErrorsCode::ResourceMissing));
    assert_eq!(err.param.as_deref(), Some("customer"));

    let (err, _) = api_error(
        invoice_session()
            .customer_creation(CreateCheckoutSessionCustomerCreation::Always)
            .customize()
            .send(&s.client)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        err.param.as_deref(),
        Some("payment_intent_data[application_fee_amount]"),
        "application fees need a connected account"
    );

    let raw = s
        .http
        .post(format!("{}v1/checkout/sessions", s.fake.base_url()))
        .bearer_auth(SECRET)
        .header("Stripe-Account", ACCT_A)
        .form(&[
            ("mode", "payment"),
            ("success_url", "https://kabinet.test/ok"),
            ("line_items[0][price_data][currency]", "usd"),
            ("line_items[0][price_data][unit_amount]", "12.50"),
            ("line_items[0][price_data][product_data][name]", "x"),
            ("line_items[0][quantity]", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["error"]["code"], "parameter_invalid_integer");
    assert_eq!(
        body["error"]["param"],
        "line_items[0][price_data][unit_amount]"
    );

    let key = stripe::IdempotencyKey::new("checkout-invoice-42").unwrap();
    let create = || {
        invoice_session()
            .customize()
            .account_id(acct(ACCT_A))
            .request_strategy(stripe::RequestStrategy::Idempotent(key.clone()))
    };
    let first = create().send(&s.client).await.unwrap();
    let again = create().send(&s.client).await.unwrap();
    assert_eq!(first.id, again.id);
    let listed = ListCheckoutSession::new()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 1);
    let (err, status) = api_error(
        invoice_session()
            .client_reference_id("other")
            .customize()
            .account_id(acct(ACCT_A))
            .request_strategy(stripe::RequestStrategy::Idempotent(key.clone()))
            .send(&s.client)
            .await
            .unwrap_err(),
    );
    assert_eq!((status, err.type_), (400, ApiErrorsType::IdempotencyError));
}

#[tokio::test]
async fn control_endpoints_mirror_the_library() {
    let s = setup().await;
    let session = invoice_session()
        .customize()
        .account_id(acct(ACCT_A))
        .send(&s.client)
        .await
        .unwrap();
    let base = s.fake.base_url();
    let event: serde_json::Value = s
        .http
        .post(format!(
            "{base}_fake/checkout/{}/complete?deliver=false",
            session.id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(event["type"], "checkout.session.completed");
    let id = event["id"].as_str().unwrap();

    let events: Vec<serde_json::Value> = s
        .http
        .get(format!("{base}_fake/events"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events.last().unwrap()["id"], id);

    let delivered: serde_json::Value = s
        .http
        .post(format!("{base}_fake/events/{id}/deliver"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(delivered["status"], 200);
    s.rx.event(EventType::CheckoutSessionCompleted).await;

    let again = s
        .http
        .post(format!("{base}_fake/checkout/{}/expire", session.id))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409, "a completed session cannot expire");
}
