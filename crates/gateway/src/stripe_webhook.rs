//! `POST /webhooks/stripe`: the platform's Connect webhook endpoint. It answers on any Host:
//! Stripe calls the platform, and the connected account in the signed event names the ISP.

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Request, Response, handler};
use serde_json::json;

use crate::AppState;
use crate::problem::ApiError;

#[handler]
pub async fn receive(req: &Request, body: poem::Body, state: Data<&AppState>) -> Response {
    let Some(stripe) = state.stripe.as_deref() else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found",
            Some("This platform does not take online payments.".into()),
        )
        .into_response();
    };
    let signature = req
        .headers()
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // The signature covers the exact bytes: read them raw, never re-serialise.
    let payload = match body.into_string().await {
        Ok(p) => p,
        Err(e) => return ApiError::bad_request("malformed_body", e.to_string()).into_response(),
    };
    match kabinet_payments::handle_webhook(
        &state.db,
        stripe,
        &payload,
        &signature,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(outcome) => {
            tracing::info!(?outcome, "stripe webhook");
            let (status, detail) = match outcome {
                kabinet_payments::WebhookOutcome::Applied(what) => ("applied", what),
                kabinet_payments::WebhookOutcome::Duplicate => ("duplicate", String::new()),
                kabinet_payments::WebhookOutcome::Ignored(why) => ("ignored", why),
            };
            Json(json!({ "status": status, "detail": detail })).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
