//! A fake of Stripe's HTTP API: a test double for Kabinet's integration tests
//! and the demo. It is never shipped to production.
//!
//! It speaks Stripe's wire format closely enough for `async-stripe`'s own
//! generated types to deserialize its responses and webhook events, for the
//! parts Kabinet uses: Connect accounts and onboarding links, Checkout
//! Sessions with a hosted payment page, off-session PaymentIntents with saved
//! cards, payment methods, customers (and their default payment method),
//! SetupIntents and refunds. Everything lives in memory.
//! Objects are scoped to the connected account named in `Stripe-Account`, and
//! every change is recorded as an [event](FakeStripe::events) that is POSTed,
//! signed exactly as Stripe signs webhooks, to the configured webhook URL.
//!
//! Besides the Stripe API under `/v1`, the server offers the hosted pages
//! (`/checkout/pay/{id}`, `/connect/onboarding/{acct}`) and control
//! endpoints under `/_fake` mirroring the methods of [`FakeStripe`].

// Stripe objects are wide; `json!` needs more than the default 128 levels.
#![recursion_limit = "256"]

mod accounts;
mod api;
mod billing;
mod checkout;
mod control;
mod customers;
mod error;
mod events;
mod expand;
mod form;
mod list;
mod pages;
mod payment_intents;
mod refunds;
mod setup_intents;
mod store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use poem::listener::TcpAcceptor;
use poem::{Endpoint, EndpointExt, IntoResponse, Route, Server, get};
use serde_json::Value;

pub use billing::MeterEvent;
pub use customers::TestCard;
pub use error::FakeError;
pub use events::{API_VERSION, Delivery};

use store::Store;

/// How the fake starts.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The platform's secret key: requests must send `Authorization: Bearer <it>`.
    pub secret_key: String,
    /// The `whsec_...` secret webhooks are signed with.
    pub webhook_secret: String,
    /// Where events are POSTed; can be set later with [`FakeStripe::set_webhook_url`].
    pub webhook_url: Option<String>,
    /// Connected accounts that exist from the start, already able to take payments.
    pub accounts: Vec<String>,
    /// Display names of connected accounts, shown on the hosted pages.
    pub business_names: HashMap<String, String>,
}

/// Options for [`FakeStripe::complete_checkout`].
#[derive(Debug, Clone, Copy)]
pub struct Completion {
    /// The card the customer pays with.
    pub card: TestCard,
    /// Whether to send the resulting webhook. With `false` the payment still
    /// happens (and the event exists) but nothing is delivered, as if the
    /// webhook got lost; [`FakeStripe::deliver`] can send it later.
    pub deliver: bool,
}

impl Default for Completion {
    fn default() -> Self {
        Self {
            card: TestCard::Visa4242,
            deliver: true,
        }
    }
}

/// Shared state behind every [`FakeStripe`] handle and HTTP handler.
pub(crate) struct Inner {
    store: Mutex<Store>,
    secret_key: String,
    webhook_secret: String,
    webhook_url: Mutex<Option<String>>,
    http: reqwest::Client,
    base_url: String,
}

impl Inner {
    /// The store; the lock is never held across an `.await`.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn webhook_url(&self) -> Option<String> {
        self.webhook_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A running fake Stripe. Cheap to clone; all clones share one server.
#[derive(Clone)]
pub struct FakeStripe {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FakeStripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeStripe")
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

impl FakeStripe {
    /// Binds `addr` (port 0 picks a free port) and serves in a background task.
    pub async fn start(addr: SocketAddr, config: Config) -> std::io::Result<FakeStripe> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let mut local = listener.local_addr()?;
        if local.ip().is_unspecified() {
            local.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let base_url = format!("http://{local}/");

        let mut store = Store::new(base_url.clone(), config.business_names.clone());
        for id in &config.accounts {
            let name = config.business_names.get(id).cloned();
            store
                .accounts
                .push(accounts::Account::preexisting(id, name));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        let inner = Arc::new(Inner {
            store: Mutex::new(store),
            secret_key: config.secret_key,
            webhook_secret: config.webhook_secret,
            webhook_url: Mutex::new(config.webhook_url),
            http,
            base_url,
        });

        let app = Route::new()
            .at("/v1/*path", api::v1)
            .at(
                "/checkout/pay/:id",
                get(pages::checkout_get).post(pages::checkout_post),
            )
            .at(
                "/connect/onboarding/:account",
                get(pages::onboarding_get).post(pages::onboarding_post),
            )
            .nest("/_fake", control::routes())
            .data(Arc::clone(&inner))
            .around(log_request);
        let acceptor = TcpAcceptor::from_tokio(listener)?;
        tokio::spawn(async move {
            if let Err(err) = Server::new_with_acceptor(acceptor).run(app).await {
                tracing::error!(%err, "fake Stripe server stopped");
            }
        });
        tracing::info!(%local, "fake Stripe listening");
        Ok(FakeStripe { inner })
    }

    /// `http://127.0.0.1:PORT/`: the base URL for `async-stripe`'s `ClientBuilder::url`.
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    pub fn set_webhook_url(&self, url: &str) {
        *self
            .inner
            .webhook_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(url.to_owned());
    }

    /// Pays open Checkout Session `session_id` as a customer would on the
    /// hosted page, and returns the `checkout.session.completed` event.
    /// A declining card leaves the session open and returns
    /// [`FakeError::CardDeclined`].
    pub async fn complete_checkout(
        &self,
        session_id: &str,
        options: Completion,
    ) -> Result<Value, FakeError> {
        let card = customers::Card::from_number(options.card.number());
        let (result, outbox) = {
            let mut store = self.inner.lock();
            let result = checkout::complete(&mut store, session_id, card, None);
            (result, store.take_outbox())
        };
        if options.deliver {
            events::spawn_deliveries(&self.inner, outbox);
        }
        result
    }

    /// Expires open Checkout Session `session_id` (as Stripe does when
    /// `expires_at` passes) and returns the `checkout.session.expired` event.
    pub async fn expire_checkout(
        &self,
        session_id: &str,
        deliver: bool,
    ) -> Result<Value, FakeError> {
        let (result, outbox) = {
            let mut store = self.inner.lock();
            let result = match store.sessions.iter().position(|s| s.id == session_id) {
                None => Err(FakeError::NotFound(format!(
                    "checkout session '{session_id}'"
                ))),
                Some(index) => {
                    checkout::expire_at(&mut store, index, &events::RequestInfo::default())
                        .map(|(_session, event)| event)
                        .map_err(|err| {
                            FakeError::InvalidState(
                                err.body["message"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                }
            };
            (result, store.take_outbox())
        };
        if deliver {
            events::spawn_deliveries(&self.inner, outbox);
        }
        result
    }

    /// Every event created so far, oldest first.
    pub fn events(&self) -> Vec<Value> {
        self.inner
            .lock()
            .events
            .iter()
            .map(|e| e.json.clone())
            .collect()
    }

    /// (Re)delivers event `event_id` now, signed at `signed_at` (default: now),
    /// and returns the receiver's HTTP status.
    pub async fn deliver(&self, event_id: &str, signed_at: Option<i64>) -> Result<u16, FakeError> {
        events::deliver(&self.inner, event_id, signed_at, None).await
    }

    /// Every webhook delivery attempt so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner.lock().deliveries.clone()
    }

    /// Makes the saved cards of `customer_id` decline (or work again) when
    /// charged through `POST /v1/payment_intents`.
    pub fn set_card_declines(&self, customer_id: &str, declines: bool) {
        let mut store = self.inner.lock();
        if declines {
            store.declining_customers.insert(customer_id.to_owned());
        } else {
            store.declining_customers.remove(customer_id);
        }
    }

    /// The `Stripe-Signature` header value for `payload` signed at `timestamp`
    /// with the webhook secret.
    pub fn sign(&self, payload: &str, timestamp: i64) -> String {
        events::signature_header(&self.inner.webhook_secret, payload, timestamp)
    }
}

/// Logs one line per request.
async fn log_request<E: Endpoint>(ep: E, req: poem::Request) -> poem::Result<poem::Response> {
    let started = Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let account = req
        .headers()
        .get("Stripe-Account")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let result = ep.call(req).await.map(IntoResponse::into_response);
    let status = match &result {
        Ok(response) => response.status(),
        Err(err) => err.status(),
    };
    tracing::info!(
        %method,
        %uri,
        status = status.as_u16(),
        account = account.as_deref().unwrap_or("-"),
        elapsed_ms = started.elapsed().as_millis(),
        "request"
    );
    result
}
