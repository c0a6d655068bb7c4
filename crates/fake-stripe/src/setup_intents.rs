//! SetupIntents: the object a `setup` mode Checkout Session leaves behind, naming the saved
//! PaymentMethod (`GET /v1/setup_intents/{id}`, `GET /v1/setup_intents`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::api::Ctx;
use crate::error::ApiError;
use crate::form::Params;
use crate::list;
use crate::store::{Store, find, new_id, now, visible};

#[derive(Debug, Clone)]
pub(crate) struct SetupIntent {
    pub(crate) id: String,
    pub(crate) account: Option<String>,
    pub(crate) created: i64,
    pub(crate) customer: Option<String>,
    pub(crate) payment_method: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
}

impl SetupIntent {
    /// A succeeded SetupIntent that saved `payment_method` for `customer`, off-session.
    pub(crate) fn succeeded(
        scope: Option<&str>,
        customer: Option<String>,
        payment_method: String,
        metadata: BTreeMap<String, String>,
    ) -> Self {
        Self {
            id: new_id("seti_1"),
            account: scope.map(str::to_owned),
            created: now(),
            customer,
            payment_method: Some(payment_method),
            metadata,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "setup_intent",
            "application": null,
            "automatic_payment_methods": null,
            "cancellation_reason": null,
            "client_secret": format!("{}_secret_{}", self.id, &self.id[self.id.len().saturating_sub(12)..]),
            "created": self.created,
            "customer": self.customer,
            "customer_account": null,
            "description": null,
            "flow_directions": null,
            "last_setup_error": null,
            "latest_attempt": null,
            "livemode": false,
            "mandate": null,
            "metadata": self.metadata,
            "next_action": null,
            "on_behalf_of": null,
            "payment_method": self.payment_method,
            "payment_method_configuration_details": null,
            "payment_method_options": { "card": { "mandate_options": null, "network": null, "request_three_d_secure": "automatic" } },
            "payment_method_types": ["card"],
            "single_use_mandate": null,
            "status": "succeeded",
            "usage": "off_session",
        })
    }
}

pub(crate) fn retrieve(store: &Store, ctx: &Ctx, id: &str) -> Result<Value, ApiError> {
    find(&store.setup_intents, ctx.scope(), id)
        .map(SetupIntent::to_json)
        .ok_or_else(|| ApiError::no_such("setup_intent", id))
}

/// `GET /v1/setup_intents` (`customer`, `payment_method`, pagination).
pub(crate) fn list(store: &Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    let customer = params.str("customer");
    let payment_method = params.str("payment_method");
    let items = visible(&store.setup_intents, ctx.scope())
        .filter(|s| customer.is_none_or(|c| s.customer.as_deref() == Some(c)))
        .filter(|s| payment_method.is_none_or(|p| s.payment_method.as_deref() == Some(p)))
        .collect();
    list::page(items, params, "/v1/setup_intents", SetupIntent::to_json)
}
