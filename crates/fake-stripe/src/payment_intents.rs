//! PaymentIntents and the Charges they produce: the card is "charged" on
//! confirmation, succeeding or declining according to the card and
//! [`crate::FakeStripe::set_card_declines`].

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::api::Ctx;
use crate::customers::Card;
use crate::error::{ApiError, decline_message};
use crate::events::{RequestInfo, emit};
use crate::form::{Params, Range};
use crate::list;
use crate::store::{Store, find, new_id, now, visible};

#[derive(Debug, Clone)]
pub(crate) struct PaymentIntent {
    pub(crate) id: String,
    pub(crate) account: Option<String>,
    pub(crate) created: i64,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) status: &'static str,
    pub(crate) customer: Option<String>,
    pub(crate) payment_method: Option<String>,
    pub(crate) application_fee_amount: Option<i64>,
    pub(crate) description: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) setup_future_usage: Option<String>,
    pub(crate) latest_charge: Option<String>,
    /// The `last_payment_error` hash after a decline.
    pub(crate) last_payment_error: Option<Value>,
}

impl PaymentIntent {
    pub(crate) fn to_json(&self) -> Value {
        let received = if self.status == "succeeded" {
            self.amount
        } else {
            0
        };
        json!({
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": 0,
            "amount_details": { "tip": {} },
            "amount_received": received,
            "application": null,
            "application_fee_amount": self.application_fee_amount,
            "automatic_payment_methods": null,
            "canceled_at": null,
            "cancellation_reason": null,
            "capture_method": "automatic_async",
            "client_secret": format!("{}_secret_{}", self.id, &self.id[3..]),
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "description": self.description,
            "last_payment_error": self.last_payment_error,
            "latest_charge": self.latest_charge,
            "livemode": false,
            "metadata": self.metadata,
            "next_action": null,
            "on_behalf_of": null,
            "payment_method": self.payment_method,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "processing": null,
            "receipt_email": null,
            "review": null,
            "setup_future_usage": self.setup_future_usage,
            "shipping": null,
            "source": null,
            "statement_descriptor": null,
            "statement_descriptor_suffix": null,
            "status": self.status,
            "transfer_data": null,
            "transfer_group": null,
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Charge {
    pub(crate) id: String,
    pub(crate) account: Option<String>,
    pub(crate) created: i64,
    pub(crate) amount: i64,
    pub(crate) amount_refunded: i64,
    pub(crate) currency: String,
    pub(crate) succeeded: bool,
    pub(crate) customer: Option<String>,
    pub(crate) payment_intent: String,
    pub(crate) payment_method: String,
    pub(crate) card: Card,
    pub(crate) application_fee_amount: Option<i64>,
    pub(crate) description: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) decline_code: Option<String>,
}

impl Charge {
    /// Renders the charge; `refunds` are its refunds, newest first.
    pub(crate) fn to_json(&self, refunds: Vec<Value>) -> Value {
        let outcome = match &self.decline_code {
            None => json!({
                "network_status": "approved_by_network", "reason": null, "risk_level": "normal",
                "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized",
            }),
            Some(code) => json!({
                "network_status": "declined_by_network", "reason": code, "risk_level": "normal",
                "risk_score": 32, "seller_message": "The bank did not return any further details with this decline.",
                "type": "issuer_declined",
            }),
        };
        json!({
            "id": self.id,
            "object": "charge",
            "amount": self.amount,
            "amount_captured": if self.succeeded { self.amount } else { 0 },
            "amount_refunded": self.amount_refunded,
            "application": null,
            "application_fee": null,
            "application_fee_amount": self.application_fee_amount,
            "balance_transaction": if self.succeeded { Value::String(format!("txn_{}", &self.id[3..])) } else { Value::Null },
            "billing_details": { "address": null, "email": null, "name": null, "phone": null },
            "captured": self.succeeded,
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "description": self.description,
            "disputed": false,
            "failure_code": self.decline_code.as_ref().map(|_| "card_declined"),
            "failure_message": self.decline_code.as_deref().map(decline_message),
            "fraud_details": {},
            "livemode": false,
            "metadata": self.metadata,
            "outcome": outcome,
            "paid": self.succeeded,
            "payment_intent": self.payment_intent,
            "payment_method": self.payment_method,
            "payment_method_details": self.card.charge_details_json(),
            "receipt_email": null,
            "receipt_url": null,
            "refunded": self.amount_refunded > 0 && self.amount_refunded == self.amount,
            "refunds": {
                "object": "list",
                "data": refunds,
                "has_more": false,
                "url": format!("/v1/charges/{}/refunds", self.id),
            },
            "status": if self.succeeded { "succeeded" } else { "failed" },
        })
    }
}

/// Renders a charge with its refunds.
pub(crate) fn charge_json(store: &Store, charge: &Charge) -> Value {
    let refunds = store
        .refunds
        .iter()
        .rev()
        .filter(|r| r.charge == charge.id)
        .map(crate::refunds::Refund::to_json)
        .collect();
    charge.to_json(refunds)
}

/// Everything needed to attempt a card payment.
pub(crate) struct Attempt {
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) customer: Option<String>,
    pub(crate) payment_method: String,
    pub(crate) card: Card,
    pub(crate) application_fee_amount: Option<i64>,
    pub(crate) description: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) setup_future_usage: Option<String>,
    /// `Some(code)` when the charge must be declined.
    pub(crate) decline_code: Option<String>,
}

/// Creates a confirmed PaymentIntent and its Charge from `attempt`, emitting
/// `payment_intent.succeeded` or `payment_intent.payment_failed` when `emit_events`.
/// Returns the index of the new intent in `store.payment_intents`.
pub(crate) fn charge_card(
    store: &mut Store,
    scope: Option<&str>,
    attempt: Attempt,
    request: &RequestInfo,
    emit_events: bool,
) -> usize {
    let created = now();
    let pi_id = new_id("pi_3");
    let charge = Charge {
        id: new_id("ch_3"),
        account: scope.map(str::to_owned),
        created,
        amount: attempt.amount,
        amount_refunded: 0,
        currency: attempt.currency.clone(),
        succeeded: attempt.decline_code.is_none(),
        customer: attempt.customer.clone(),
        payment_intent: pi_id.clone(),
        payment_method: attempt.payment_method.clone(),
        card: attempt.card.clone(),
        application_fee_amount: attempt.application_fee_amount,
        description: attempt.description.clone(),
        metadata: attempt.metadata.clone(),
        decline_code: attempt.decline_code.clone(),
    };
    let last_payment_error = attempt.decline_code.as_deref().map(|code| {
        let pm = find(&store.payment_methods, scope, &attempt.payment_method)
            .map(crate::customers::PaymentMethod::to_json);
        json!({
            "type": "card_error",
            "code": "card_declined",
            "decline_code": code,
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": decline_message(code),
            "charge": charge.id,
            "payment_method": pm,
        })
    });
    let intent = PaymentIntent {
        id: pi_id,
        account: scope.map(str::to_owned),
        created,
        amount: attempt.amount,
        currency: attempt.currency,
        status: if attempt.decline_code.is_none() {
            "succeeded"
        } else {
            "requires_payment_method"
        },
        customer: attempt.customer,
        payment_method: if attempt.decline_code.is_none() {
            Some(attempt.payment_method)
        } else {
            None
        },
        application_fee_amount: attempt.application_fee_amount,
        description: attempt.description,
        metadata: attempt.metadata,
        setup_future_usage: attempt.setup_future_usage,
        latest_charge: Some(charge.id.clone()),
        last_payment_error,
    };
    store.charges.push(charge);
    if emit_events {
        let kind = if intent.status == "succeeded" {
            "payment_intent.succeeded"
        } else {
            "payment_intent.payment_failed"
        };
        emit(store, scope, kind, intent.to_json(), None, request);
    }
    store.payment_intents.push(intent);
    store.payment_intents.len() - 1
}

/// `POST /v1/payment_intents`.
pub(crate) fn create(store: &mut Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    let scope = ctx.scope();
    let amount = params.required_int("amount")?;
    if amount < 1 {
        return Err(ApiError::invalid_request(
            Some("amount_too_small"),
            Some("amount"),
            "Amount must be at least 1 (in the currency's smallest unit).",
        ));
    }
    let currency = params.required_str("currency")?.to_ascii_lowercase();
    let customer = params.string("customer");
    if let Some(customer) = &customer
        && find(&store.customers, scope, customer).is_none()
    {
        return Err(ApiError::no_such_in_param("customer", customer, "customer"));
    }
    let application_fee_amount = params.int("application_fee_amount")?;
    check_application_fee(
        scope,
        application_fee_amount,
        amount,
        "application_fee_amount",
    )?;
    let metadata = params.string_map("metadata");
    let description = params.string("description");
    let setup_future_usage = params.string("setup_future_usage");
    let payment_method = params.string("payment_method");
    let confirm = params.bool("confirm")?.unwrap_or(false);
    let off_session = params.bool("off_session")?.unwrap_or(false);

    let pm = match &payment_method {
        None => None,
        Some(id) => {
            let pm = find(&store.payment_methods, scope, id).ok_or_else(|| {
                ApiError::no_such_in_param("payment_method", id, "payment_method")
            })?;
            if pm.customer.is_some() && pm.customer != customer {
                return Err(ApiError::invalid_request(
                    None,
                    Some("payment_method"),
                    &format!(
                        "The provided PaymentMethod {id} belongs to a different Customer than the one provided."
                    ),
                ));
            }
            if pm.customer.is_none() && off_session {
                return Err(ApiError::invalid_request(
                    None,
                    Some("payment_method"),
                    "A PaymentMethod must be attached to a Customer to be used off_session.",
                ));
            }
            Some(pm.clone())
        }
    };

    if !confirm {
        let intent = PaymentIntent {
            id: new_id("pi_3"),
            account: scope.map(str::to_owned),
            created: now(),
            amount,
            currency,
            status: if pm.is_some() {
                "requires_confirmation"
            } else {
                "requires_payment_method"
            },
            customer,
            payment_method,
            application_fee_amount,
            description,
            metadata,
            setup_future_usage,
            latest_charge: None,
            last_payment_error: None,
        };
        let json = intent.to_json();
        store.payment_intents.push(intent);
        return Ok(json);
    }

    let Some(pm) = pm else {
        return Err(ApiError::invalid_request(
            Some("payment_intent_unexpected_state"),
            None,
            "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
        ));
    };
    let declines_off_session = pm
        .customer
        .as_ref()
        .is_some_and(|c| store.declining_customers.contains(c));
    let decline_code = pm
        .card
        .decline_code()
        .or(declines_off_session.then_some("generic_decline"));
    let index = charge_card(
        store,
        scope,
        Attempt {
            amount,
            currency,
            customer,
            payment_method: pm.id.clone(),
            card: pm.card.clone(),
            application_fee_amount,
            description,
            metadata,
            setup_future_usage,
            decline_code: decline_code.map(str::to_owned),
        },
        &ctx.request,
        true,
    );
    let intent = &store.payment_intents[index];
    match decline_code {
        None => Ok(intent.to_json()),
        Some(code) => {
            let mut extra = Map::new();
            extra.insert("payment_intent".into(), intent.to_json());
            extra.insert("payment_method".into(), pm.to_json());
            extra.insert("charge".into(), json!(intent.latest_charge));
            Err(ApiError::card_declined(code, extra))
        }
    }
}

/// Stripe only takes an application fee on a connected account (direct charges).
pub(crate) fn check_application_fee(
    scope: Option<&str>,
    fee: Option<i64>,
    amount: i64,
    param: &str,
) -> Result<(), ApiError> {
    let Some(fee) = fee else { return Ok(()) };
    if scope.is_none() {
        return Err(ApiError::invalid_request(
            None,
            Some(param),
            "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).",
        ));
    }
    if fee < 0 || fee > amount {
        return Err(ApiError::invalid_param(
            param,
            "The application fee amount must be between zero and the amount of the payment.",
        ));
    }
    Ok(())
}

pub(crate) fn retrieve(store: &Store, ctx: &Ctx, id: &str) -> Result<Value, ApiError> {
    find(&store.payment_intents, ctx.scope(), id)
        .map(PaymentIntent::to_json)
        .ok_or_else(|| ApiError::no_such("payment_intent", id))
}

/// `GET /v1/payment_intents` (`created`, `customer`, pagination).
pub(crate) fn list(store: &Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    let created = Range::from_params(params, "created")?;
    let customer = params.str("customer");
    let items = visible(&store.payment_intents, ctx.scope())
        .filter(|pi| created.contains(pi.created))
        .filter(|pi| customer.is_none_or(|c| pi.customer.as_deref() == Some(c)))
        .collect();
    list::page(items, params, "/v1/payment_intents", PaymentIntent::to_json)
}

pub(crate) fn retrieve_charge(store: &Store, ctx: &Ctx, id: &str) -> Result<Value, ApiError> {
    find(&store.charges, ctx.scope(), id)
        .map(|charge| charge_json(store, charge))
        .ok_or_else(|| ApiError::no_such("charge", id))
}
