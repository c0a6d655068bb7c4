//! `/_fake/...`: HTTP mirrors of the [`FakeStripe`] control functions, for
//! browser tests and the demo. Not part of Stripe's API; no authentication.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Json, Path, Query};
use poem::{IntoResponse, Response, Route, handler, post};
use serde::Deserialize;
use serde_json::json;

use crate::error::FakeError;
use crate::{Completion, FakeStripe, Inner, TestCard};

pub(crate) fn routes() -> Route {
    Route::new()
        .at("/checkout/:id/complete", post(complete))
        .at("/checkout/:id/expire", post(expire))
        .at("/events", poem::get(events))
        .at("/events/:id/deliver", post(deliver))
        .at("/deliveries", poem::get(deliveries))
        .at("/customers/:id/card_declines", post(card_declines))
        .at("/webhook_url", post(webhook_url))
        .at(
            "/billing/subscriptions/:id/close_period",
            post(crate::billing::close_period_handler),
        )
}

fn handle(inner: &Arc<Inner>) -> FakeStripe {
    FakeStripe {
        inner: Arc::clone(inner),
    }
}

pub(crate) fn error_response(err: &FakeError) -> Response {
    let status = match err {
        FakeError::NotFound(_) => StatusCode::NOT_FOUND,
        FakeError::InvalidState(_) => StatusCode::CONFLICT,
        FakeError::CardDeclined { .. } => StatusCode::PAYMENT_REQUIRED,
        FakeError::NoWebhookUrl => StatusCode::PRECONDITION_FAILED,
        FakeError::Delivery(_) => StatusCode::BAD_GATEWAY,
    };
    Json(json!({ "error": err.to_string() }))
        .with_status(status)
        .into_response()
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct CompleteQuery {
    #[serde(default = "default_true")]
    deliver: bool,
    /// A card number; `4000000000000002` declines.
    card: Option<String>,
}

/// `POST /_fake/checkout/{id}/complete?deliver=true|false&card=...` → the event.
#[handler]
async fn complete(
    Path(id): Path<String>,
    Query(query): Query<CompleteQuery>,
    Data(inner): Data<&Arc<Inner>>,
) -> Response {
    let card = match query.card.as_deref().map(|c| c.replace(' ', "")) {
        Some(n) if n == TestCard::Declined.number() => TestCard::Declined,
        Some(n) if n == TestCard::InsufficientFunds.number() => TestCard::InsufficientFunds,
        _ => TestCard::Visa4242,
    };
    let options = Completion {
        card,
        deliver: query.deliver,
    };
    match handle(inner).complete_checkout(&id, options).await {
        Ok(event) => Json(event).into_response(),
        Err(err) => error_response(&err),
    }
}

#[derive(Debug, Deserialize)]
struct DeliverQuery {
    #[serde(default = "default_true")]
    deliver: bool,
}

/// `POST /_fake/checkout/{id}/expire?deliver=true|false` → the event.
#[handler]
async fn expire(
    Path(id): Path<String>,
    Query(query): Query<DeliverQuery>,
    Data(inner): Data<&Arc<Inner>>,
) -> Response {
    match handle(inner).expire_checkout(&id, query.deliver).await {
        Ok(event) => Json(event).into_response(),
        Err(err) => error_response(&err),
    }
}

/// `GET /_fake/events` → every event, oldest first.
#[handler]
fn events(Data(inner): Data<&Arc<Inner>>) -> Json<Vec<serde_json::Value>> {
    Json(handle(inner).events())
}

#[derive(Debug, Deserialize)]
struct SignedAtQuery {
    signed_at: Option<i64>,
}

/// `POST /_fake/events/{id}/deliver?signed_at=<unix>` → `{"status": <receiver's status>}`.
#[handler]
async fn deliver(
    Path(id): Path<String>,
    Query(query): Query<SignedAtQuery>,
    Data(inner): Data<&Arc<Inner>>,
) -> Response {
    match handle(inner).deliver(&id, query.signed_at).await {
        Ok(status) => Json(json!({ "status": status })).into_response(),
        Err(err) => error_response(&err),
    }
}

/// `GET /_fake/deliveries` → every delivery attempt, oldest first.
#[handler]
fn deliveries(Data(inner): Data<&Arc<Inner>>) -> Json<Vec<crate::Delivery>> {
    Json(handle(inner).deliveries())
}

#[derive(Debug, Deserialize)]
struct DeclinesQuery {
    #[serde(default = "default_true")]
    declines: bool,
}

/// `POST /_fake/customers/{id}/card_declines?declines=true|false`.
#[handler]
fn card_declines(
    Path(id): Path<String>,
    Query(query): Query<DeclinesQuery>,
    Data(inner): Data<&Arc<Inner>>,
) -> StatusCode {
    handle(inner).set_card_declines(&id, query.declines);
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct UrlQuery {
    url: String,
}

/// `POST /_fake/webhook_url?url=...`.
#[handler]
fn webhook_url(Query(query): Query<UrlQuery>, Data(inner): Data<&Arc<Inner>>) -> StatusCode {
    handle(inner).set_webhook_url(&query.url);
    StatusCode::NO_CONTENT
}
