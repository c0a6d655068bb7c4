//! Events and webhooks: the `event` envelope, Stripe's `Stripe-Signature`
//! scheme, and delivery (automatic with retries, or on demand).

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::Inner;
use crate::api::Ctx;
use crate::error::{ApiError, FakeError};
use crate::form::{Params, Range};
use crate::list;
use crate::store::{Store, find, new_id, now, visible};

/// The API version `async-stripe` 1.0.0-rc.10 is generated for
/// (`stripe_shared::version::VERSION`); every event is rendered with it.
pub const API_VERSION: &str = "2026-09-30.endive";

/// Pauses before each automatic delivery attempt: the first goes out at once.
const RETRY_SCHEDULE: [Duration; 4] = [
    Duration::ZERO,
    Duration::from_millis(200),
    Duration::from_secs(1),
    Duration::from_secs(3),
];

/// A stored event. `payload` is the exact body sent on every (re)delivery.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) id: String,
    pub(crate) account: Option<String>,
    pub(crate) created: i64,
    pub(crate) json: Value,
    pub(crate) payload: String,
}

/// The API request an event originated from (`request` in the envelope).
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestInfo {
    pub(crate) id: Option<String>,
    pub(crate) idempotency_key: Option<String>,
}

/// One webhook delivery attempt.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub event_id: String,
    pub event_type: String,
    /// 1 for the first attempt of an automatic delivery; manual deliveries count on.
    pub attempt: u32,
    /// The receiver's HTTP status, `None` when the request itself failed.
    pub status: Option<u16>,
    pub error: Option<String>,
    /// Unix time the attempt was made.
    pub at: i64,
    /// The `t=` of the signature sent.
    pub signed_at: i64,
}

/// Records an event of `kind` about `object` (already rendered) on `scope`
/// and queues it for delivery. Returns the event JSON.
pub(crate) fn emit(
    store: &mut Store,
    scope: Option<&str>,
    kind: &str,
    object: Value,
    previous_attributes: Option<Value>,
    request: &RequestInfo,
) -> Value {
    let id = new_id("evt_1");
    let created = now();
    let mut data = json!({ "object": object });
    if let Some(previous) = previous_attributes {
        data["previous_attributes"] = previous;
    }
    let mut json = json!({
        "id": id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": false,
        "pending_webhooks": 1,
        "request": {
            "id": request.id,
            "idempotency_key": request.idempotency_key,
        },
        "type": kind,
    });
    if let Some(account) = scope {
        json["account"] = json!(account);
    }
    let payload = serde_json::to_string_pretty(&json).unwrap_or_default();
    store.push_event(Event {
        id,
        account: scope.map(str::to_owned),
        created,
        json,
        payload,
    })
}

/// `GET /v1/events` (`type`, `created`, pagination) on the caller's account.
pub(crate) fn list(store: &Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    let created = Range::from_params(params, "created")?;
    let kind = params.str("type");
    let items = visible(&store.events, ctx.scope())
        .filter(|e| created.contains(e.created))
        .filter(|e| kind.is_none_or(|k| e.json["type"] == k))
        .collect();
    list::page(items, params, "/v1/events", |e| e.json.clone())
}

pub(crate) fn retrieve(store: &Store, ctx: &Ctx, id: &str) -> Result<Value, ApiError> {
    find(&store.events, ctx.scope(), id)
        .map(|e| e.json.clone())
        .ok_or_else(|| ApiError::no_such("event", id))
}

/// The `Stripe-Signature` header value for `payload` signed at `timestamp`:
/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<payload>")>`.
pub(crate) fn signature_header(secret: &str, payload: &str, timestamp: i64) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any size"));
    mac.update(format!("{timestamp}.{payload}").as_bytes());
    let v1 = hex::encode(mac.finalize().into_bytes());
    format!("t={timestamp},v1={v1}")
}

/// Sends one event to the webhook URL now and records the attempt.
pub(crate) async fn deliver(
    inner: &Inner,
    event_id: &str,
    signed_at: Option<i64>,
    attempt: Option<u32>,
) -> Result<u16, FakeError> {
    let url = inner.webhook_url().ok_or(FakeError::NoWebhookUrl)?;
    let (payload, event_type, attempt) = {
        let store = inner.lock();
        let event = store
            .event(event_id)
            .ok_or_else(|| FakeError::NotFound(format!("event '{event_id}'")))?;
        let attempt = attempt.unwrap_or_else(|| {
            let previous = store
                .deliveries
                .iter()
                .filter(|d| d.event_id == event_id)
                .count();
            u32::try_from(previous)
                .unwrap_or(u32::MAX)
                .saturating_add(1)
        });
        let event_type = event.json["type"].as_str().unwrap_or_default().to_owned();
        (event.payload.clone(), event_type, attempt)
    };
    let signed_at = signed_at.unwrap_or_else(now);
    let result = inner
        .http
        .post(&url)
        .header("Content-Type", "application/json; charset=utf-8")
        .header(
            "User-Agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .header(
            "Stripe-Signature",
            signature_header(&inner.webhook_secret, &payload, signed_at),
        )
        .body(payload)
        .send()
        .await;
    let (status, error) = match &result {
        Ok(response) => (Some(response.status().as_u16()), None),
        Err(err) => (None, Some(err.to_string())),
    };
    tracing::info!(
        event_id,
        event_type,
        attempt,
        ?status,
        ?error,
        "webhook delivery"
    );
    inner.lock().deliveries.push(Delivery {
        event_id: event_id.to_owned(),
        event_type,
        attempt,
        status,
        error: error.clone(),
        at: now(),
        signed_at,
    });
    match (status, error) {
        (Some(status), _) => Ok(status),
        (None, error) => Err(FakeError::Delivery(error.unwrap_or_default())),
    }
}

/// Delivers each event in the background, retrying non-2xx answers and
/// connection errors on [`RETRY_SCHEDULE`]. Nothing happens without a webhook URL.
pub(crate) fn spawn_deliveries(inner: &Arc<Inner>, event_ids: Vec<String>) {
    if inner.webhook_url().is_none() {
        return;
    }
    for event_id in event_ids {
        let inner = Arc::clone(inner);
        tokio::spawn(async move {
            for (attempt, pause) in (1..).zip(RETRY_SCHEDULE) {
                tokio::time::sleep(pause).await;
                match deliver(&inner, &event_id, None, Some(attempt)).await {
                    Ok(status) if (200..300).contains(&status) => return,
                    Err(FakeError::NoWebhookUrl) => return,
                    _ => {}
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_stripes_documented_scheme() {
        // Python: hmac.new(b"whsec_test", b"1700000000.{}", hashlib.sha256).hexdigest()
        assert_eq!(
            signature_header("whsec_test", "{}", 1_700_000_000),
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
        assert_ne!(
            signature_header("whsec_test", "{}", 1_700_000_000),
            signature_header("whsec_other", "{}", 1_700_000_000)
        );
    }
}
