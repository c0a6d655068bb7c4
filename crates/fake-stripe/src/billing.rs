//! Stripe Billing, as the platform bills its own customers: Billing Meters and meter events
//! (`POST /v1/billing/meter_events`, deduplicated by `identifier` like Stripe), metered Prices
//! (`recurring[usage_type]=metered` with `recurring[meter]`), Subscriptions with metered items,
//! subscription item price changes, and Invoices (retrieve, list, `pay`).
//!
//! Stripe closes a billing period when its clock passes the period's end; the fake does it on
//! request ([`FakeStripe::close_billing_period`],
//! `POST /_fake/billing/subscriptions/{id}/close_period`), as a test clock would: the usage
//! reported for the period (events timestamped from its start until now, not billed before) is
//! aggregated with the meter's formula (`sum`, `count` or `last`), an invoice is created and
//! finalized (`invoice.created`, `invoice.finalized`), and the customer's card is charged:
//! `invoice.paid` + `invoice.payment_succeeded`, or `invoice.payment_failed` when the customer's
//! card declines (a declining attached card, or [`FakeStripe::set_card_declines`]). Zero invoices
//! are paid at once. All of it lives on the platform account (no `Stripe-Account`).

use std::collections::BTreeMap;

use chrono::{DateTime, Months, Utc};
use poem::http::Method;
use serde_json::{Value, json};

use crate::FakeStripe;
use crate::api::Ctx;
use crate::error::{ApiError, FakeError};
use crate::events::{RequestInfo, emit, spawn_deliveries};
use crate::form::Params;
use crate::list;
use crate::store::{Record, Store, find, find_mut, new_id, now, visible};

/// Billing objects, kept apart from the payment objects of [`Store`].
#[derive(Debug, Default)]
pub(crate) struct BillingStore {
    meters: Vec<Meter>,
    /// Accepted meter events, oldest first.
    meter_events: Vec<MeterEvent>,
    /// Meter events refused as duplicates of an earlier `identifier`.
    duplicates: u64,
    prices: Vec<Price>,
    subscriptions: Vec<Subscription>,
    invoices: Vec<Invoice>,
}

#[derive(Debug, Clone)]
struct Meter {
    id: String,
    account: Option<String>,
    created: i64,
    event_name: String,
    display_name: String,
    formula: String,
    customer_key: String,
    value_key: String,
}

impl Meter {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "billing.meter",
            "created": self.created,
            "customer_mapping": { "event_payload_key": self.customer_key, "type": "by_id" },
            "default_aggregation": { "formula": self.formula },
            "display_name": self.display_name,
            "event_name": self.event_name,
            "event_time_window": null,
            "livemode": false,
            "status": "active",
            "status_transitions": { "deactivated_at": null },
            "updated": self.created,
            "value_settings": { "event_payload_key": self.value_key },
        })
    }
}

/// One accepted usage fact.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MeterEvent {
    pub identifier: String,
    pub event_name: String,
    pub payload: BTreeMap<String, String>,
    /// When the usage happened (unix seconds).
    pub timestamp: i64,
    pub created: i64,
    #[serde(skip)]
    account: Option<String>,
    /// Set once an invoice has counted it.
    #[serde(skip)]
    invoiced: bool,
}

impl MeterEvent {
    fn to_json(&self) -> Value {
        json!({
            "object": "billing.meter_event",
            "created": self.created,
            "event_name": self.event_name,
            "identifier": self.identifier,
            "livemode": false,
            "payload": self.payload,
            "timestamp": self.timestamp,
        })
    }
}

#[derive(Debug, Clone)]
struct Price {
    id: String,
    account: Option<String>,
    created: i64,
    currency: String,
    unit_amount: i64,
    interval: String,
    usage_type: String,
    meter: Option<String>,
    product: String,
    nickname: Option<String>,
    lookup_key: Option<String>,
    metadata: BTreeMap<String, String>,
}

impl Price {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "price",
            "active": true,
            "billing_scheme": "per_unit",
            "created": self.created,
            "currency": self.currency,
            "custom_unit_amount": null,
            "livemode": false,
            "lookup_key": self.lookup_key,
            "metadata": self.metadata,
            "nickname": self.nickname,
            "product": self.product,
            "recurring": {
                "interval": self.interval,
                "interval_count": 1,
                "meter": self.meter,
                "usage_type": self.usage_type,
            },
            "tax_behavior": "unspecified",
            "tiers_mode": null,
            "transform_quantity": null,
            "type": "recurring",
            "unit_amount": self.unit_amount,
            "unit_amount_decimal": self.unit_amount.to_string(),
        })
    }

    /// The legacy `plan` twin Stripe still renders on subscription items.
    fn plan_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "plan",
            "active": true,
            "amount": self.unit_amount,
            "amount_decimal": self.unit_amount.to_string(),
            "billing_scheme": "per_unit",
            "created": self.created,
            "currency": self.currency,
            "interval": self.interval,
            "interval_count": 1,
            "livemode": false,
            "metadata": self.metadata,
            "meter": self.meter,
            "nickname": self.nickname,
            "product": self.product,
            "tiers_mode": null,
            "transform_usage": null,
            "trial_period_days": null,
            "usage_type": self.usage_type,
        })
    }
}

#[derive(Debug, Clone)]
struct Subscription {
    id: String,
    account: Option<String>,
    created: i64,
    customer: String,
    item_id: String,
    item_created: i64,
    price: String,
    period_start: i64,
    period_end: i64,
    status: &'static str,
    metadata: BTreeMap<String, String>,
    latest_invoice: Option<String>,
}

#[derive(Debug, Clone)]
struct Invoice {
    id: String,
    account: Option<String>,
    created: i64,
    number: String,
    customer: String,
    customer_email: Option<String>,
    customer_name: Option<String>,
    subscription: String,
    subscription_item: String,
    subscription_metadata: BTreeMap<String, String>,
    price: Price,
    quantity: i64,
    period_start: i64,
    period_end: i64,
    status: &'static str,
    attempt_count: u64,
    finalized_at: i64,
    paid_at: Option<i64>,
    line_id: String,
    base_url: String,
}

impl Invoice {
    fn amount(&self) -> i64 {
        self.quantity.saturating_mul(self.price.unit_amount)
    }

    fn to_json(&self) -> Value {
        let amount = self.amount();
        let paid = if self.status == "paid" { amount } else { 0 };
        let line = json!({
            "id": self.line_id,
            "object": "line_item",
            "amount": amount,
            "currency": self.price.currency,
            "description": format!("{} × {} (at {} / {})", self.quantity,
                self.price.nickname.as_deref().unwrap_or("usage"), self.price.unit_amount, self.price.interval),
            "discount_amounts": [],
            "discountable": true,
            "discounts": [],
            "invoice": self.id,
            "livemode": false,
            "metadata": {},
            "parent": {
                "invoice_item_details": null,
                "subscription_item_details": {
                    "invoice_item": null,
                    "proration": false,
                    "proration_details": { "credited_items": null },
                    "subscription": self.subscription,
                    "subscription_item": self.subscription_item,
                },
                "type": "subscription_item_details",
            },
            "period": { "end": self.period_end, "start": self.period_start },
            "pretax_credit_amounts": [],
            "pricing": {
                "price_details": { "price": self.price.id, "product": self.price.product },
                "type": "price_details",
                "unit_amount_decimal": self.price.unit_amount.to_string(),
            },
            "quantity": self.quantity,
            "subtotal": amount,
            "taxes": [],
        });
        json!({
            "id": self.id,
            "object": "invoice",
            "account_country": "US",
            "account_name": "Kabinet",
            "account_tax_ids": null,
            "amount_due": amount,
            "amount_overpaid": 0,
            "amount_paid": paid,
            "amount_remaining": amount - paid,
            "amount_shipping": 0,
            "application": null,
            "attempt_count": self.attempt_count,
            "attempted": self.attempt_count > 0,
            "auto_advance": self.status == "open",
            "automatic_tax": { "disabled_reason": null, "enabled": false, "liability": null, "provider": null, "status": null },
            "automatically_finalizes_at": null,
            "billing_reason": "subscription_cycle",
            "collection_method": "charge_automatically",
            "created": self.created,
            "currency": self.price.currency,
            "custom_fields": null,
            "customer": self.customer,
            "customer_address": null,
            "customer_email": self.customer_email,
            "customer_name": self.customer_name,
            "customer_phone": null,
            "customer_shipping": null,
            "customer_tax_exempt": "none",
            "customer_tax_ids": [],
            "default_payment_method": null,
            "default_source": null,
            "default_tax_rates": [],
            "description": null,
            "discounts": [],
            "due_date": null,
            "effective_at": self.finalized_at,
            "ending_balance": 0,
            "footer": null,
            "from_invoice": null,
            "hosted_invoice_url": format!("{}invoice/{}", self.base_url, self.id),
            "invoice_pdf": format!("{}invoice/{}/pdf", self.base_url, self.id),
            "issuer": { "type": "self" },
            "last_finalization_error": null,
            "latest_revision": null,
            "lines": {
                "object": "list",
                "data": [line],
                "has_more": false,
                "total_count": 1,
                "url": format!("/v1/invoices/{}/lines", self.id),
            },
            "livemode": false,
            "metadata": {},
            "next_payment_attempt": null,
            "number": self.number,
            "on_behalf_of": null,
            "parent": {
                "quote_details": null,
                "subscription_details": {
                    "metadata": self.subscription_metadata,
                    "subscription": self.subscription,
                },
                "type": "subscription_details",
            },
            "payment_settings": { "default_mandate": null, "payment_method_options": null, "payment_method_types": null },
            "period_end": self.period_end,
            "period_start": self.period_start,
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": null,
            "rendering": null,
            "shipping_cost": null,
            "shipping_details": null,
            "starting_balance": 0,
            "statement_descriptor": null,
            "status": self.status,
            "status_transitions": {
                "finalized_at": self.finalized_at,
                "marked_uncollectible_at": null,
                "paid_at": self.paid_at,
                "voided_at": null,
            },
            "subtotal": amount,
            "subtotal_excluding_tax": amount,
            "test_clock": null,
            "total": amount,
            "total_discount_amounts": [],
            "total_excluding_tax": amount,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
            "webhooks_delivered_at": self.finalized_at,
        })
    }
}

impl Record for Meter {
    fn id(&self) -> &str {
        &self.id
    }
    fn scope(&self) -> Option<&str> {
        self.account.as_deref()
    }
}
impl Record for Price {
    fn id(&self) -> &str {
        &self.id
    }
    fn scope(&self) -> Option<&str> {
        self.account.as_deref()
    }
}
impl Record for Subscription {
    fn id(&self) -> &str {
        &self.id
    }
    fn scope(&self) -> Option<&str> {
        self.account.as_deref()
    }
}
impl Record for Invoice {
    fn id(&self) -> &str {
        &self.id
    }
    fn scope(&self) -> Option<&str> {
        self.account.as_deref()
    }
}

/// Whether `first` (the first path segment after `/v1/`) is a Billing resource.
pub(crate) fn handles(first: &str) -> bool {
    matches!(
        first,
        "billing" | "prices" | "subscriptions" | "subscription_items" | "invoices"
    )
}

pub(crate) fn route(
    store: &mut Store,
    ctx: &Ctx,
    method: &Method,
    segments: &[&str],
    params: &Params,
) -> Result<Value, ApiError> {
    match (method.as_str(), segments) {
        ("POST", ["billing", "meters"]) => create_meter(store, ctx, params),
        ("GET", ["billing", "meters", id]) => find(&store.billing.meters, ctx.scope(), id)
            .map(Meter::to_json)
            .ok_or_else(|| ApiError::no_such("billing.meter", id)),
        ("POST", ["billing", "meter_events"]) => create_meter_event(store, ctx, params),
        ("POST", ["prices"]) => create_price(store, ctx, params),
        ("GET", ["prices", id]) => find(&store.billing.prices, ctx.scope(), id)
            .map(Price::to_json)
            .ok_or_else(|| ApiError::no_such("price", id)),
        ("POST", ["subscriptions"]) => create_subscription(store, ctx, params),
        ("GET", ["subscriptions", id]) => {
            let sub = find(&store.billing.subscriptions, ctx.scope(), id)
                .ok_or_else(|| ApiError::no_such("subscription", id))?;
            Ok(subscription_json(store, sub))
        }
        ("POST", ["subscription_items", id]) => update_item(store, ctx, id, params),
        ("GET", ["invoices"]) => {
            let customer = params.str("customer");
            let subscription = params.str("subscription");
            let status = params.str("status");
            let items = visible(&store.billing.invoices, ctx.scope())
                .filter(|i| customer.is_none_or(|c| i.customer == c))
                .filter(|i| subscription.is_none_or(|s| i.subscription == s))
                .filter(|i| status.is_none_or(|s| i.status == s))
                .collect();
            list::page(items, params, "/v1/invoices", Invoice::to_json)
        }
        ("GET", ["invoices", id]) => find(&store.billing.invoices, ctx.scope(), id)
            .map(Invoice::to_json)
            .ok_or_else(|| ApiError::no_such("invoice", id)),
        ("POST", ["invoices", id, "pay"]) => pay_invoice(store, ctx.scope(), id, &ctx.request),
        _ => Err(ApiError::unrecognized_url(
            method.as_str(),
            &format!("/v1/{}", segments.join("/")),
        )),
    }
}

fn create_meter(store: &mut Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    let event_name = params.required_str("event_name")?.to_owned();
    let display_name = params.required_str("display_name")?.to_owned();
    let formula = params
        .str("default_aggregation[formula]")
        .ok_or_else(|| ApiError::missing_param("default_aggregation[formula]"))?;
    if !matches!(formula, "sum" | "count" | "last") {
        return Err(ApiError::invalid_param(
            "default_aggregation[formula]",
            "Invalid default_aggregation[formula]: must be one of count, sum, or last",
        ));
    }
    if visible(&store.billing.meters, ctx.scope()).any(|m| m.event_name == event_name) {
        return Err(ApiError::invalid_request(
            Some("resource_already_exists"),
            Some("event_name"),
            &format!("An active meter with event_name `{event_name}` already exists."),
        ));
    }
    let meter = Meter {
        id: new_id("mtr_"),
        account: ctx.scope.clone(),
        created: now(),
        event_name,
        display_name,
        formula: formula.to_owned(),
        customer_key: params
            .string("customer_mapping[event_payload_key]")
            .unwrap_or_else(|| "stripe_customer_id".into()),
        value_key: params
            .string("value_settings[event_payload_key]")
            .unwrap_or_else(|| "value".into()),
    };
    let json = meter.to_json();
    store.billing.meters.push(meter);
    Ok(json)
}

fn create_meter_event(store: &mut Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    let event_name = params.required_str("event_name")?.to_owned();
    let payload = params.string_map("payload");
    if payload.is_empty() {
        return Err(ApiError::missing_param("payload"));
    }
    let timestamp = params.int("timestamp")?.unwrap_or_else(now);
    let current = now();
    if timestamp > current + 300 || timestamp < current - 35 * 86_400 {
        return Err(ApiError::invalid_param(
            "timestamp",
            "Timestamp must be within the past 35 calendar days or up to 5 minutes in the future.",
        ));
    }
    let meter = visible(&store.billing.meters, ctx.scope())
        .find(|m| m.event_name == event_name)
        .cloned();
    if let Some(meter) = &meter {
        for key in [&meter.customer_key, &meter.value_key] {
            if !payload.contains_key(key.as_str()) {
                return Err(ApiError::invalid_param(
                    &format!("payload[{key}]"),
                    &format!(
                        "Missing required payload key `{key}` for meter `{}`.",
                        meter.id
                    ),
                ));
            }
        }
        if payload[&meter.value_key].parse::<f64>().is_err() {
            return Err(ApiError::invalid_param(
                &format!("payload[{}]", meter.value_key),
                "The meter event value must be a number.",
            ));
        }
    }
    let identifier = params
        .string("identifier")
        .unwrap_or_else(|| new_id("mev_"));
    let event = MeterEvent {
        identifier: identifier.clone(),
        event_name,
        payload,
        timestamp,
        created: current,
        account: ctx.scope.clone(),
        invoiced: false,
    };
    let json = event.to_json();
    // Stripe enforces `identifier` uniqueness: a repeat is acknowledged but never counted.
    if store
        .billing
        .meter_events
        .iter()
        .any(|e| e.identifier == identifier && e.account == ctx.scope)
    {
        store.billing.duplicates += 1;
    } else {
        store.billing.meter_events.push(event);
    }
    Ok(json)
}

fn create_price(store: &mut Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    let currency = params.required_str("currency")?.to_ascii_lowercase();
    let unit_amount = params.required_int("unit_amount")?;
    if unit_amount < 0 {
        return Err(ApiError::invalid_param(
            "unit_amount",
            "This value must be greater than or equal to 0.",
        ));
    }
    let product = match (params.str("product"), params.str("product_data[name]")) {
        (Some(product), _) => product.to_owned(),
        (None, Some(_)) => new_id("prod_"),
        (None, None) => return Err(ApiError::missing_param("product")),
    };
    let interval = params
        .string("recurring[interval]")
        .ok_or_else(|| ApiError::missing_param("recurring[interval]"))?;
    let usage_type = params
        .string("recurring[usage_type]")
        .unwrap_or_else(|| "licensed".into());
    let meter = params.string("recurring[meter]");
    if usage_type == "metered" {
        let Some(id) = &meter else {
            return Err(ApiError::invalid_request(
                None,
                Some("recurring[meter]"),
                "Metered prices must be backed by a meter: pass recurring[meter].",
            ));
        };
        if find(&store.billing.meters, ctx.scope(), id).is_none() {
            return Err(ApiError::no_such_in_param(
                "billing.meter",
                id,
                "recurring[meter]",
            ));
        }
    }
    let price = Price {
        id: new_id("price_1"),
        account: ctx.scope.clone(),
        created: now(),
        currency,
        unit_amount,
        interval,
        usage_type,
        meter,
        product,
        nickname: params.string("nickname"),
        lookup_key: params.string("lookup_key"),
        metadata: params.string_map("metadata"),
    };
    let json = price.to_json();
    store.billing.prices.push(price);
    Ok(json)
}

fn month_after(at: i64) -> i64 {
    DateTime::<Utc>::from_timestamp(at, 0)
        .and_then(|t| t.checked_add_months(Months::new(1)))
        .map_or(at + 30 * 86_400, |t| t.timestamp())
}

fn create_subscription(store: &mut Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    let customer = params.required_str("customer")?.to_owned();
    if find(&store.customers, ctx.scope(), &customer).is_none() {
        return Err(ApiError::no_such_in_param(
            "customer", &customer, "customer",
        ));
    }
    if params.array_len("items") != 1 {
        return Err(ApiError::invalid_param(
            "items",
            "The fake supports subscriptions with exactly one item.",
        ));
    }
    let price = params.required_str("items[0][price]")?.to_owned();
    let price_obj = find(&store.billing.prices, ctx.scope(), &price)
        .ok_or_else(|| ApiError::no_such_in_param("price", &price, "items[0][price]"))?;
    if price_obj.usage_type == "metered" && params.has("items[0][quantity]") {
        return Err(ApiError::invalid_param(
            "items[0][quantity]",
            "Quantity should not be specified where usage_type is `metered`. Remove quantity from `items[0]`.",
        ));
    }
    let created = now();
    let sub = Subscription {
        id: new_id("sub_1"),
        account: ctx.scope.clone(),
        created,
        customer,
        item_id: new_id("si_"),
        item_created: created,
        price,
        period_start: created,
        period_end: month_after(created),
        status: "active",
        metadata: params.string_map("metadata"),
        latest_invoice: None,
    };
    let json = subscription_json(store, &sub);
    store.billing.subscriptions.push(sub);
    emit(
        store,
        ctx.scope(),
        "customer.subscription.created",
        json.clone(),
        None,
        &ctx.request,
    );
    Ok(json)
}

fn subscription_json(store: &Store, sub: &Subscription) -> Value {
    let price = find(&store.billing.prices, sub.scope(), &sub.price);
    let currency = price.map_or("usd".to_owned(), |p| p.currency.clone());
    let item = json!({
        "id": sub.item_id,
        "object": "subscription_item",
        "billing_thresholds": null,
        "created": sub.item_created,
        "current_period_end": sub.period_end,
        "current_period_start": sub.period_start,
        "discounts": [],
        "metadata": {},
        "plan": price.map(Price::plan_json),
        "price": price.map(Price::to_json),
        "subscription": sub.id,
        "tax_rates": [],
    });
    json!({
        "id": sub.id,
        "object": "subscription",
        "application": null,
        "application_fee_percent": null,
        "automatic_tax": { "disabled_reason": null, "enabled": false, "liability": null },
        "billing_cycle_anchor": sub.created,
        "billing_cycle_anchor_config": null,
        "billing_mode": { "flexible": null, "type": "classic", "updated_at": null },
        "billing_schedules": [],
        "billing_thresholds": null,
        "cancel_at": null,
        "cancel_at_period_end": false,
        "canceled_at": null,
        "cancellation_details": { "comment": null, "feedback": null, "reason": null },
        "collection_method": "charge_automatically",
        "created": sub.created,
        "currency": currency,
        "customer": sub.customer,
        "days_until_due": null,
        "default_payment_method": null,
        "default_source": null,
        "default_tax_rates": [],
        "description": null,
        "discounts": [],
        "ended_at": null,
        "invoice_settings": { "account_tax_ids": null, "issuer": { "type": "self" } },
        "items": {
            "object": "list",
            "data": [item],
            "has_more": false,
            "total_count": 1,
            "url": format!("/v1/subscription_items?subscription={}", sub.id),
        },
        "latest_invoice": sub.latest_invoice,
        "livemode": false,
        "metadata": sub.metadata,
        "next_pending_invoice_item_invoice": null,
        "on_behalf_of": null,
        "pause_collection": null,
        "payment_settings": null,
        "pending_invoice_item_interval": null,
        "pending_setup_intent": null,
        "pending_update": null,
        "schedule": null,
        "start_date": sub.created,
        "status": sub.status,
        "test_clock": null,
        "transfer_data": null,
        "trial_end": null,
        "trial_settings": null,
        "trial_start": null,
    })
}

/// `POST /v1/subscription_items/{id}`: the fake supports changing `price` (and `metadata`).
fn update_item(store: &mut Store, ctx: &Ctx, id: &str, params: &Params) -> Result<Value, ApiError> {
    let new_price = params.string("price");
    if let Some(price) = &new_price
        && find(&store.billing.prices, ctx.scope(), price).is_none()
    {
        return Err(ApiError::no_such_in_param("price", price, "price"));
    }
    let scope = ctx.scope.clone();
    let sub = store
        .billing
        .subscriptions
        .iter_mut()
        .find(|s| s.item_id == id && s.account == scope)
        .ok_or_else(|| ApiError::no_such("subscription_item", id))?;
    if let Some(price) = new_price {
        sub.price = price;
    }
    let sub = sub.clone();
    let json = subscription_json(store, &sub);
    Ok(json["items"]["data"][0].clone())
}

/// Attempts to collect invoice `id`: paid, or open with one more failed attempt.
fn pay_invoice(
    store: &mut Store,
    scope: Option<&str>,
    id: &str,
    request: &RequestInfo,
) -> Result<Value, ApiError> {
    let invoice =
        find(&store.billing.invoices, scope, id).ok_or_else(|| ApiError::no_such("invoice", id))?;
    if invoice.status != "open" {
        return Err(ApiError::invalid_request(
            Some("invoice_not_open"),
            None,
            &format!("Invoice {id} is already {}.", invoice.status),
        ));
    }
    let declines = card_declines(store, scope, &invoice.customer.clone());
    let Some(invoice) = find_mut(&mut store.billing.invoices, scope, id) else {
        return Err(ApiError::no_such("invoice", id));
    };
    invoice.attempt_count += 1;
    if declines.is_none() {
        invoice.status = "paid";
        invoice.paid_at = Some(now());
    }
    let json = invoice.to_json();
    if declines.is_none() {
        emit(store, scope, "invoice.paid", json.clone(), None, request);
        emit(
            store,
            scope,
            "invoice.payment_succeeded",
            json.clone(),
            None,
            request,
        );
        Ok(json)
    } else {
        emit(
            store,
            scope,
            "invoice.payment_failed",
            json.clone(),
            None,
            request,
        );
        let code = declines.unwrap_or("generic_decline");
        let mut extra = serde_json::Map::new();
        extra.insert("invoice".into(), json!(id));
        Err(ApiError::card_declined(code, extra))
    }
}

/// The decline code the customer's card produces, if it declines: its
/// `invoice_settings.default_payment_method`, else its first attached card, or Stripe's `4242`
/// test card when none is attached; [`FakeStripe::set_card_declines`] wins.
fn card_declines(store: &Store, scope: Option<&str>, customer: &str) -> Option<&'static str> {
    if store.declining_customers.contains(customer) {
        return Some("generic_decline");
    }
    let default = find(&store.customers, scope, customer)
        .and_then(|c| c.default_payment_method.as_deref())
        .and_then(|pm| find(&store.payment_methods, scope, pm));
    default
        .or_else(|| {
            visible(&store.payment_methods, scope)
                .find(|pm| pm.customer.as_deref() == Some(customer))
        })
        .and_then(|pm| pm.card.decline_code())
}

/// Ends subscription `id`'s current period now and invoices the usage reported since the last
/// close. Returns the invoice as it stands after the payment attempt.
fn close_period(store: &mut Store, id: &str) -> Result<Value, FakeError> {
    let scope_sub = store
        .billing
        .subscriptions
        .iter()
        .find(|s| s.id == id)
        .cloned()
        .ok_or_else(|| FakeError::NotFound(format!("subscription '{id}'")))?;
    let scope = scope_sub.account.clone();
    let price = find(&store.billing.prices, scope.as_deref(), &scope_sub.price)
        .cloned()
        .ok_or_else(|| FakeError::InvalidState(format!("price '{}' is gone", scope_sub.price)))?;
    let meter = price
        .meter
        .as_deref()
        .and_then(|m| find(&store.billing.meters, scope.as_deref(), m))
        .cloned();
    let closed_at = now();
    let mut quantity = 0_i64;
    if let Some(meter) = &meter {
        let mut values = Vec::new();
        for event in store.billing.meter_events.iter_mut().filter(|e| {
            !e.invoiced
                && e.account == scope
                && e.event_name == meter.event_name
                && e.payload.get(&meter.customer_key) == Some(&scope_sub.customer)
                && (scope_sub.period_start..=closed_at).contains(&e.timestamp)
        }) {
            event.invoiced = true;
            let value = event
                .payload
                .get(&meter.value_key)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            values.push((event.timestamp, value));
        }
        // Stable sort: of events with the same timestamp, the later report wins.
        values.sort_by_key(|(t, _)| *t);
        let total = match meter.formula.as_str() {
            "count" => values.len() as f64,
            "last" => values.last().map_or(0.0, |(_, v)| *v),
            _ => values.iter().map(|(_, v)| v).sum(),
        };
        #[allow(clippy::cast_possible_truncation)]
        let rounded = total.round() as i64;
        quantity = rounded;
    }
    let customer = find(&store.customers, scope.as_deref(), &scope_sub.customer).cloned();
    let count = store.billing.invoices.len() + 1;
    let invoice = Invoice {
        id: new_id("in_1"),
        account: scope.clone(),
        created: closed_at,
        number: format!(
            "{}-{count:04}",
            scope_sub
                .customer
                .trim_start_matches("cus_")
                .chars()
                .take(8)
                .collect::<String>()
                .to_uppercase()
        ),
        customer: scope_sub.customer.clone(),
        customer_email: customer.as_ref().and_then(|c| c.email.clone()),
        customer_name: customer.as_ref().and_then(|c| c.name.clone()),
        subscription: scope_sub.id.clone(),
        subscription_item: scope_sub.item_id.clone(),
        subscription_metadata: scope_sub.metadata.clone(),
        price,
        quantity,
        period_start: scope_sub.period_start,
        period_end: closed_at,
        status: "open",
        attempt_count: 0,
        finalized_at: closed_at,
        paid_at: None,
        line_id: new_id("il_1"),
        base_url: store.base_url.clone(),
    };
    let invoice_id = invoice.id.clone();
    let mut draft = invoice.to_json();
    draft["status"] = json!("draft");
    draft["status_transitions"]["finalized_at"] = Value::Null;
    store.billing.invoices.push(invoice.clone());
    if let Some(sub) = store.billing.subscriptions.iter_mut().find(|s| s.id == id) {
        sub.period_start = closed_at;
        sub.period_end = month_after(closed_at);
        sub.latest_invoice = Some(invoice_id.clone());
    }
    let request = RequestInfo::default();
    emit(
        store,
        scope.as_deref(),
        "invoice.created",
        draft,
        None,
        &request,
    );
    emit(
        store,
        scope.as_deref(),
        "invoice.finalized",
        invoice.to_json(),
        None,
        &request,
    );
    if invoice.amount() == 0 {
        // Nothing to collect: Stripe marks a zero invoice paid at once.
        let stored = find_mut(&mut store.billing.invoices, scope.as_deref(), &invoice_id);
        if let Some(stored) = stored {
            stored.status = "paid";
            stored.paid_at = Some(closed_at);
            let json = stored.to_json();
            emit(
                store,
                scope.as_deref(),
                "invoice.paid",
                json.clone(),
                None,
                &request,
            );
            return Ok(json);
        }
    }
    let _ = pay_invoice(store, scope.as_deref(), &invoice_id, &request);
    find(&store.billing.invoices, scope.as_deref(), &invoice_id)
        .map(Invoice::to_json)
        .ok_or_else(|| FakeError::NotFound(format!("invoice '{invoice_id}'")))
}

impl FakeStripe {
    /// Ends subscription `subscription_id`'s billing period now (as a test clock would):
    /// invoices the reported usage, charges the customer's card and sends the invoice events
    /// (unless `deliver` is false). Returns the invoice after the payment attempt.
    pub async fn close_billing_period(
        &self,
        subscription_id: &str,
        deliver: bool,
    ) -> Result<Value, FakeError> {
        let (result, outbox) = {
            let mut store = self.inner.lock();
            let result = close_period(&mut store, subscription_id);
            (result, store.take_outbox())
        };
        if deliver {
            spawn_deliveries(&self.inner, outbox);
        }
        result
    }

    /// Retries the payment of open invoice `invoice_id` (like `POST /v1/invoices/{id}/pay`).
    pub async fn retry_invoice(&self, invoice_id: &str, deliver: bool) -> Result<Value, FakeError> {
        let (result, outbox) = {
            let mut store = self.inner.lock();
            let result = pay_invoice(&mut store, None, invoice_id, &RequestInfo::default());
            (result, store.take_outbox())
        };
        if deliver {
            spawn_deliveries(&self.inner, outbox);
        }
        result.map_err(|err| match err.body["code"].as_str() {
            Some("card_declined") => FakeError::CardDeclined {
                decline_code: err.body["decline_code"]
                    .as_str()
                    .unwrap_or("generic_decline")
                    .to_owned(),
            },
            _ => {
                FakeError::InvalidState(err.body["message"].as_str().unwrap_or_default().to_owned())
            }
        })
    }

    /// Every accepted meter event, oldest first (repeats of an `identifier` are not kept).
    pub fn meter_events(&self) -> Vec<MeterEvent> {
        self.inner.lock().billing.meter_events.clone()
    }

    /// How many meter events were refused as repeats of an earlier `identifier`.
    pub fn duplicate_meter_events(&self) -> u64 {
        self.inner.lock().billing.duplicates
    }

    /// The ids of every subscription of `customer_id` on the platform account.
    pub fn subscriptions_of(&self, customer_id: &str) -> Vec<String> {
        self.inner
            .lock()
            .billing
            .subscriptions
            .iter()
            .filter(|s| s.customer == customer_id && s.account.is_none())
            .map(|s| s.id.clone())
            .collect()
    }
}

/// `POST /_fake/billing/subscriptions/{id}/close_period?deliver=true|false` → the invoice.
#[poem::handler]
pub(crate) async fn close_period_handler(
    poem::web::Path(id): poem::web::Path<String>,
    poem::web::Query(query): poem::web::Query<CloseQuery>,
    poem::web::Data(inner): poem::web::Data<&std::sync::Arc<crate::Inner>>,
) -> poem::Response {
    use poem::IntoResponse as _;
    let fake = FakeStripe {
        inner: std::sync::Arc::clone(inner),
    };
    match fake.close_billing_period(&id, query.deliver).await {
        Ok(invoice) => poem::web::Json(invoice).into_response(),
        Err(err) => crate::control::error_response(&err),
    }
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct CloseQuery {
    #[serde(default = "default_true")]
    deliver: bool,
}

fn default_true() -> bool {
    true
}
