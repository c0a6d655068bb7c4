//! Refunds of succeeded charges, full or partial.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::api::Ctx;
use crate::error::ApiError;
use crate::events::emit;
use crate::form::{Params, Range};
use crate::list;
use crate::payment_intents::charge_json;
use crate::store::{Store, find, find_mut, new_id, now, visible};

#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub(crate) id: String,
    pub(crate) account: Option<String>,
    pub(crate) created: i64,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) charge: String,
    pub(crate) payment_intent: String,
    pub(crate) reason: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
}

impl Refund {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "balance_transaction": format!("txn_{}", &self.id[3..]),
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "metadata": self.metadata,
            "payment_intent": self.payment_intent,
            "reason": self.reason,
            "receipt_number": null,
            "source_transfer_reversal": null,
            "status": "succeeded",
            "transfer_reversal": null,
        })
    }
}

/// `POST /v1/refunds` (`payment_intent` or `charge`, optional partial `amount`).
pub(crate) fn create(store: &mut Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    let scope = ctx.scope();
    let charge_id = match (params.str("payment_intent"), params.str("charge")) {
        (Some(pi), _) => {
            let intent = find(&store.payment_intents, scope, pi).ok_or_else(|| {
                ApiError::no_such_in_param("payment_intent", pi, "payment_intent")
            })?;
            match (&intent.latest_charge, intent.status) {
                (Some(charge), "succeeded") => charge.clone(),
                _ => {
                    return Err(ApiError::invalid_request(
                        None,
                        Some("payment_intent"),
                        &format!(
                            "This PaymentIntent ({pi}) does not have a successful charge to refund."
                        ),
                    ));
                }
            }
        }
        (None, Some(charge)) => charge.to_owned(),
        (None, None) => {
            return Err(ApiError::invalid_request(
                Some("parameter_missing"),
                Some("payment_intent"),
                "One of the following params should be provided for this request: payment_intent or charge.",
            ));
        }
    };
    let reason = params.string("reason");
    if let Some(reason) = &reason
        && !["duplicate", "fraudulent", "requested_by_customer"].contains(&reason.as_str())
    {
        return Err(ApiError::invalid_param(
            "reason",
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
        ));
    }
    let requested = params.int("amount")?;

    let charge = find_mut(&mut store.charges, scope, &charge_id)
        .filter(|c| c.succeeded)
        .ok_or_else(|| ApiError::no_such_in_param("charge", &charge_id, "charge"))?;
    let remaining = charge.amount - charge.amount_refunded;
    if remaining == 0 {
        return Err(ApiError::invalid_request(
            Some("charge_already_refunded"),
            None,
            &format!("Charge {charge_id} has already been refunded."),
        ));
    }
    let amount = requested.unwrap_or(remaining);
    if amount < 1 {
        return Err(ApiError::invalid_integer("amount", &amount.to_string()));
    }
    if amount > remaining {
        return Err(ApiError::invalid_request(
            Some("amount_too_large"),
            Some("amount"),
            &format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})"
            ),
        ));
    }
    let previous = json!({
        "amount_refunded": charge.amount_refunded,
        "refunded": false,
    });
    charge.amount_refunded += amount;
    let refund = Refund {
        id: new_id("re_3"),
        account: scope.map(str::to_owned),
        created: now(),
        amount,
        currency: charge.currency.clone(),
        charge: charge_id.clone(),
        payment_intent: charge.payment_intent.clone(),
        reason,
        metadata: params.string_map("metadata"),
    };
    let json = refund.to_json();
    store.refunds.push(refund);

    let charge = find(&store.charges, scope, &charge_id)
        .map(|c| charge_json(store, c))
        .unwrap_or_default();
    emit(
        store,
        scope,
        "charge.refunded",
        charge,
        Some(previous),
        &ctx.request,
    );
    emit(
        store,
        scope,
        "refund.created",
        json.clone(),
        None,
        &ctx.request,
    );
    Ok(json)
}

pub(crate) fn retrieve(store: &Store, ctx: &Ctx, id: &str) -> Result<Value, ApiError> {
    find(&store.refunds, ctx.scope(), id)
        .map(Refund::to_json)
        .ok_or_else(|| ApiError::no_such("refund", id))
}

/// `GET /v1/refunds` (`payment_intent`, `charge`, `created`, pagination).
pub(crate) fn list(store: &Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    let created = Range::from_params(params, "created")?;
    let payment_intent = params.str("payment_intent");
    let charge = params.str("charge");
    let items = visible(&store.refunds, ctx.scope())
        .filter(|r| created.contains(r.created))
        .filter(|r| payment_intent.is_none_or(|pi| r.payment_intent == pi))
        .filter(|r| charge.is_none_or(|c| r.charge == c))
        .collect();
    list::page(items, params, "/v1/refunds", Refund::to_json)
}
