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
                // The platform's own invoice (SaaS billing): its payment moves the ISP's dunning.
                kabinet_payments::WebhookOutcome::Saas(event) => {
                    if let Err(e) = saas_dunning(&state, &event).await {
                        return e.into_response();
                    }
                    ("applied", format!("saas invoice {}", event.invoice_id))
                }
            };
            Json(json!({ "status": status, "detail": detail })).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Hands a SaaS invoice's payment outcome to dunning (both entry points are idempotent, so a
/// redelivered event is harmless). A failure answers 5xx: Stripe delivers the event again.
async fn saas_dunning(
    state: &AppState,
    event: &kabinet_payments::saas_billing::SaasInvoiceEvent,
) -> Result<(), ApiError> {
    use kabinet_payments::saas_billing::SaasPayment;
    use kabinet_provisioning::dunning;
    let result = match event.payment {
        Some(SaasPayment::Failed) => {
            dunning::payment_failed(&state.db, event.tenant, event.at).await
        }
        Some(SaasPayment::Succeeded) => {
            dunning::payment_succeeded(&state.db, event.tenant, event.at).await
        }
        None => return Ok(()),
    };
    match result {
        Ok(billing) => {
            tracing::info!(tenant = %event.tenant, invoice = %event.invoice_id, state = billing.as_str(), "saas dunning");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
