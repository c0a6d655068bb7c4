//! Customers, card payment methods and Stripe's test card numbers.

use std::collections::BTreeMap;

use chrono::Datelike;
use serde_json::{Value, json};

use crate::api::Ctx;
use crate::error::ApiError;
use crate::events::emit;
use crate::form::Params;
use crate::list;
use crate::store::{Store, find, find_mut, new_id, now, visible};

/// The test cards the fake understands (the hosted page accepts any number;
/// these are the ones with special behaviour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TestCard {
    /// `4242 4242 4242 4242`: always succeeds.
    #[default]
    Visa4242,
    /// `4000 0000 0000 0002`: declined with `generic_decline`.
    Declined,
    /// `4000 0000 0000 9995`: declined with `insufficient_funds`.
    InsufficientFunds,
}

impl TestCard {
    pub fn number(self) -> &'static str {
        match self {
            Self::Visa4242 => "4242424242424242",
            Self::Declined => "4000000000000002",
            Self::InsufficientFunds => "4000000000009995",
        }
    }
}

/// The decline code a card number produces, if it declines.
pub(crate) fn decline_code_for(number: &str) -> Option<&'static str> {
    match number {
        "4000000000000002" => Some("generic_decline"),
        "4000000000009995" => Some("insufficient_funds"),
        _ => None,
    }
}

/// The card details Stripe exposes (never the full number).
#[derive(Debug, Clone)]
pub(crate) struct Card {
    pub(crate) number: String,
    pub(crate) brand: &'static str,
    pub(crate) last4: String,
    pub(crate) exp_month: i64,
    pub(crate) exp_year: i64,
}

impl Card {
    pub(crate) fn from_number(number: &str) -> Self {
        let digits: String = number.chars().filter(char::is_ascii_digit).collect();
        let brand = match digits.chars().next() {
            Some('5' | '2') => "mastercard",
            Some('3') => "amex",
            _ => "visa",
        };
        let last4 = digits[digits.len().saturating_sub(4)..].to_owned();
        Self {
            number: digits,
            brand,
            last4,
            exp_month: 12,
            exp_year: i64::from(chrono::Utc::now().year()) + 2,
        }
    }

    pub(crate) fn decline_code(&self) -> Option<&'static str> {
        decline_code_for(&self.number)
    }

    /// The `card` hash of a PaymentMethod.
    fn payment_method_json(&self) -> Value {
        json!({
            "brand": self.brand,
            "checks": { "address_line1_check": null, "address_postal_code_check": null, "cvc_check": "pass" },
            "country": "US",
            "display_brand": self.brand,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "fingerprint": format!("fp{}", self.number.chars().rev().take(14).collect::<String>()),
            "funding": "credit",
            "generated_from": null,
            "last4": self.last4,
            "networks": { "available": [self.brand], "preferred": null },
            "wallet": null,
        })
    }

    /// `payment_method_details` of a Charge.
    pub(crate) fn charge_details_json(&self) -> Value {
        json!({
            "type": "card",
            "card": {
                "brand": self.brand,
                "country": "US",
                "exp_month": self.exp_month,
                "exp_year": self.exp_year,
                "funding": "credit",
                "last4": self.last4,
                "network": self.brand,
            },
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub(crate) id: String,
    pub(crate) account: Option<String>,
    pub(crate) created: i64,
    pub(crate) email: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    /// `invoice_settings.default_payment_method`: what subscriptions and invoices charge.
    pub(crate) default_payment_method: Option<String>,
}

impl Customer {
    pub(crate) fn new(scope: Option<&str>, email: Option<String>) -> Self {
        Self {
            id: new_id("cus_"),
            account: scope.map(str::to_owned),
            created: now(),
            email,
            name: None,
            metadata: BTreeMap::new(),
            default_payment_method: None,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "customer",
            "address": null,
            "balance": 0,
            "created": self.created,
            "currency": null,
            "default_source": null,
            "delinquent": false,
            "description": null,
            "email": self.email,
            "invoice_prefix": self.id.trim_start_matches("cus_").chars().take(8).collect::<String>().to_uppercase(),
            "invoice_settings": { "custom_fields": null, "default_payment_method": self.default_payment_method, "footer": null, "rendering_options": null },
            "livemode": false,
            "metadata": self.metadata,
            "name": self.name,
            "phone": null,
            "preferred_locales": [],
            "shipping": null,
            "tax_exempt": "none",
            "test_clock": null,
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PaymentMethod {
    pub(crate) id: String,
    pub(crate) account: Option<String>,
    pub(crate) created: i64,
    pub(crate) customer: Option<String>,
    pub(crate) card: Card,
    pub(crate) billing_email: Option<String>,
}

impl PaymentMethod {
    pub(crate) fn new(scope: Option<&str>, card: Card, billing_email: Option<String>) -> Self {
        Self {
            id: new_id("pm_1"),
            account: scope.map(str::to_owned),
            created: now(),
            customer: None,
            card,
            billing_email,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": {
                "address": null,
                "email": self.billing_email,
                "name": null,
                "phone": null,
                "tax_id": null,
            },
            "card": self.card.payment_method_json(),
            "created": self.created,
            "customer": self.customer,
            "livemode": false,
            "metadata": {},
            "type": "card",
        })
    }
}

pub(crate) fn create_customer(
    store: &mut Store,
    ctx: &Ctx,
    params: &Params,
) -> Result<Value, ApiError> {
    let mut customer = Customer::new(ctx.scope(), params.string("email"));
    customer.name = params.string("name");
    customer.metadata = params.string_map("metadata");
    let json = customer.to_json();
    store.customers.push(customer);
    Ok(json)
}

pub(crate) fn retrieve_customer(store: &Store, ctx: &Ctx, id: &str) -> Result<Value, ApiError> {
    find(&store.customers, ctx.scope(), id)
        .map(Customer::to_json)
        .ok_or_else(|| ApiError::no_such("customer", id))
}

/// `POST /v1/customers/{id}`: `name`, `email`, `metadata` (merged; an empty value removes a
/// key) and `invoice_settings[default_payment_method]` (a card attached to this customer; an
/// empty value clears it). Emits `customer.updated` with the previous values when anything
/// changed, as Stripe does.
pub(crate) fn update_customer(
    store: &mut Store,
    ctx: &Ctx,
    id: &str,
    params: &Params,
) -> Result<Value, ApiError> {
    let scope = ctx.scope();
    if find(&store.customers, scope, id).is_none() {
        return Err(ApiError::no_such("customer", id));
    }
    let param = "invoice_settings[default_payment_method]";
    let default_pm = match params.str(param) {
        None => None,
        Some("") => Some(None),
        Some(pm) => {
            let attached = find(&store.payment_methods, scope, pm)
                .ok_or_else(|| ApiError::no_such_in_param("PaymentMethod", pm, param))?
                .customer
                .as_deref()
                == Some(id);
            if !attached {
                return Err(ApiError::invalid_request(
                    Some("resource_missing"),
                    Some(param),
                    &format!(
                        "The customer does not have a payment method with the ID {pm}. The payment method must be attached to the customer."
                    ),
                ));
            }
            Some(Some(pm.to_owned()))
        }
    };
    let customer = find_mut(&mut store.customers, scope, id)
        .ok_or_else(|| ApiError::no_such("customer", id))?;
    let mut previous = serde_json::Map::new();
    if let Some(name) = params.string("name")
        && customer.name.as_ref() != Some(&name)
    {
        previous.insert("name".into(), json!(customer.name));
        customer.name = Some(name);
    }
    if let Some(email) = params.string("email")
        && customer.email.as_ref() != Some(&email)
    {
        previous.insert("email".into(), json!(customer.email));
        customer.email = Some(email);
    }
    let metadata = params.string_map("metadata");
    if !metadata.is_empty() {
        let before = customer.metadata.clone();
        for (key, value) in metadata {
            if value.is_empty() {
                customer.metadata.remove(&key);
            } else {
                customer.metadata.insert(key, value);
            }
        }
        if before != customer.metadata {
            previous.insert("metadata".into(), json!(before));
        }
    }
    if let Some(pm) = default_pm
        && customer.default_payment_method != pm
    {
        previous.insert(
            "invoice_settings".into(),
            json!({ "default_payment_method": customer.default_payment_method }),
        );
        customer.default_payment_method = pm;
    }
    let json = customer.to_json();
    if !previous.is_empty() {
        emit(
            store,
            scope,
            "customer.updated",
            json.clone(),
            Some(Value::Object(previous)),
            &ctx.request,
        );
    }
    Ok(json)
}

/// `GET /v1/customers/{id}/payment_methods`.
pub(crate) fn list_customer_payment_methods(
    store: &Store,
    ctx: &Ctx,
    customer: &str,
    params: &Params,
) -> Result<Value, ApiError> {
    if find(&store.customers, ctx.scope(), customer).is_none() {
        return Err(ApiError::no_such("customer", customer));
    }
    list_for(
        store,
        ctx,
        Some(customer),
        params,
        &format!("/v1/customers/{customer}/payment_methods"),
    )
}

/// `GET /v1/payment_methods?customer=...&type=card`.
pub(crate) fn list_payment_methods(
    store: &Store,
    ctx: &Ctx,
    params: &Params,
) -> Result<Value, ApiError> {
    let customer = params.str("customer");
    if let Some(customer) = customer
        && find(&store.customers, ctx.scope(), customer).is_none()
    {
        return Err(ApiError::no_such_in_param("customer", customer, "customer"));
    }
    list_for(store, ctx, customer, params, "/v1/payment_methods")
}

fn list_for(
    store: &Store,
    ctx: &Ctx,
    customer: Option<&str>,
    params: &Params,
    url: &str,
) -> Result<Value, ApiError> {
    let kind = params.str("type");
    let items = visible(&store.payment_methods, ctx.scope())
        .filter(|pm| customer.is_none_or(|c| pm.customer.as_deref() == Some(c)))
        .filter(|_| kind.is_none_or(|k| k == "card"))
        .collect();
    list::page(items, params, url, PaymentMethod::to_json)
}

pub(crate) fn retrieve_payment_method(
    store: &Store,
    ctx: &Ctx,
    id: &str,
) -> Result<Value, ApiError> {
    find(&store.payment_methods, ctx.scope(), id)
        .map(PaymentMethod::to_json)
        .ok_or_else(|| ApiError::no_such("PaymentMethod", id))
}

pub(crate) fn detach_payment_method(
    store: &mut Store,
    ctx: &Ctx,
    id: &str,
) -> Result<Value, ApiError> {
    let pm = find_mut(&mut store.payment_methods, ctx.scope(), id)
        .ok_or_else(|| ApiError::no_such("PaymentMethod", id))?;
    if pm.customer.take().is_none() {
        return Err(ApiError::invalid_request(
            Some("payment_method_unexpected_state"),
            None,
            "The payment method you provided is not attached to a customer so detachment is impossible.",
        ));
    }
    Ok(pm.to_json())
}
