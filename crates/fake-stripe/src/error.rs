//! Errors: Stripe-shaped API errors (what the HTTP API returns) and
//! [`FakeError`] (what the library control functions return).

use poem::http::StatusCode;
use serde_json::{Map, Value, json};

/// An error as Stripe renders it: `{"error": {"type", "code", "message", "param", ...}}`
/// with Stripe's HTTP status.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    /// The object under `"error"`.
    pub(crate) body: Value,
}

impl ApiError {
    fn new(
        status: StatusCode,
        kind: &str,
        code: Option<&str>,
        param: Option<&str>,
        message: &str,
    ) -> Self {
        let mut body = Map::new();
        body.insert("type".into(), json!(kind));
        body.insert("message".into(), json!(message));
        if let Some(code) = code {
            body.insert("code".into(), json!(code));
            body.insert(
                "doc_url".into(),
                json!(format!(
                    "https://stripe.com/docs/error-codes/{}",
                    code.replace('_', "-")
                )),
            );
        }
        if let Some(param) = param {
            body.insert("param".into(), json!(param));
        }
        Self {
            status,
            body: Value::Object(body),
        }
    }

    /// A 400 `invalid_request_error`.
    pub(crate) fn invalid_request(code: Option<&str>, param: Option<&str>, message: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            code,
            param,
            message,
        )
    }

    pub(crate) fn missing_param(param: &str) -> Self {
        Self::invalid_request(
            Some("parameter_missing"),
            Some(param),
            &format!("Missing required param: {param}."),
        )
    }

    pub(crate) fn invalid_integer(param: &str, raw: &str) -> Self {
        Self::invalid_request(
            Some("parameter_invalid_integer"),
            Some(param),
            &format!("Invalid integer: {raw}"),
        )
    }

    pub(crate) fn invalid_param(param: &str, message: &str) -> Self {
        Self::invalid_request(Some("parameter_invalid"), Some(param), message)
    }

    /// 404 `resource_missing` for an object addressed in the URL.
    pub(crate) fn no_such(object: &str, id: &str) -> Self {
        Self::no_such_param(object, id, "id", StatusCode::NOT_FOUND)
    }

    /// `resource_missing` for an object referenced by a body parameter (Stripe answers 400).
    pub(crate) fn no_such_in_param(object: &str, id: &str, param: &str) -> Self {
        Self::no_such_param(object, id, param, StatusCode::BAD_REQUEST)
    }

    fn no_such_param(object: &str, id: &str, param: &str, status: StatusCode) -> Self {
        Self::new(
            status,
            "invalid_request_error",
            Some("resource_missing"),
            Some(param),
            &format!("No such {object}: '{id}'"),
        )
    }

    pub(crate) fn unrecognized_url(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            None,
            None,
            &format!(
                "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
            ),
        )
    }

    pub(crate) fn invalid_api_key(provided: Option<&str>) -> Self {
        let message = match provided {
            None => "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').".to_owned(),
            Some(key) => format!("Invalid API Key provided: {}", redact(key)),
        };
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            None,
            &message,
        )
    }

    pub(crate) fn account_invalid(secret_key: &str, account: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            Some("account_invalid"),
            None,
            &format!(
                "The provided key '{}' does not have access to account '{account}' (or that account does not exist). Application access may have been revoked.",
                redact(secret_key)
            ),
        )
    }

    pub(crate) fn idempotency_mismatch(key: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "idempotency_error",
            None,
            None,
            &format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
            ),
        )
    }

    /// 402 `card_error`; `extra` carries `payment_intent`, `payment_method` and `charge`.
    pub(crate) fn card_declined(decline_code: &str, extra: Map<String, Value>) -> Self {
        let mut err = Self::new(
            StatusCode::PAYMENT_REQUIRED,
            "card_error",
            Some("card_declined"),
            None,
            decline_message(decline_code),
        );
        if let Value::Object(body) = &mut err.body {
            body.insert("decline_code".into(), json!(decline_code));
            body.extend(extra);
        }
        err
    }

    /// The full response body, `{"error": {...}}`.
    pub(crate) fn envelope(&self) -> Value {
        json!({ "error": self.body })
    }
}

/// The customer-facing message Stripe uses for a decline code.
pub(crate) fn decline_message(decline_code: &str) -> &'static str {
    match decline_code {
        "insufficient_funds" => "Your card has insufficient funds.",
        _ => "Your card was declined.",
    }
}

fn redact(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let prefix = key.split('_').take(2).collect::<Vec<_>>().join("_");
    format!("{prefix}_*********{tail}")
}

/// Errors of the library's control functions ([`crate::FakeStripe`]).
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    #[error("no such {0}")]
    NotFound(String),
    #[error("invalid state: {0}")]
    InvalidState(String),
    #[error("the card was declined ({decline_code})")]
    CardDeclined { decline_code: String },
    #[error("no webhook URL configured")]
    NoWebhookUrl,
    #[error("webhook delivery failed: {0}")]
    Delivery(String),
}
