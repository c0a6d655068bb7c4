//! Checkout Sessions: creation with Stripe's validation, retrieval, listing,
//! expiry, and completion (from the hosted page or the control API).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::api::Ctx;
use crate::customers::{Card, Customer, PaymentMethod};
use crate::error::{ApiError, FakeError, decline_message};
use crate::events::{RequestInfo, emit};
use crate::form::{Params, Range};
use crate::list;
use crate::payment_intents::{Attempt, charge_card, check_application_fee};
use crate::setup_intents::SetupIntent;
use crate::store::{Store, find, new_id, now, visible};

/// Default lifetime of a session, and the bounds Stripe allows for `expires_at`.
const DEFAULT_LIFETIME: i64 = 24 * 3600;
const MIN_LIFETIME: i64 = 30 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Open,
    Complete,
    Expired,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Complete => "complete",
            Self::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct LineItem {
    pub(crate) name: String,
    pub(crate) unit_amount: i64,
    pub(crate) quantity: i64,
}

/// `payment_intent_data[...]`: copied onto the PaymentIntent at completion.
#[derive(Debug, Clone, Default)]
pub(crate) struct PaymentIntentData {
    application_fee_amount: Option<i64>,
    setup_future_usage: Option<String>,
    description: Option<String>,
    metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(crate) struct CheckoutSession {
    pub(crate) id: String,
    pub(crate) account: Option<String>,
    pub(crate) created: i64,
    pub(crate) expires_at: i64,
    pub(crate) mode: String,
    pub(crate) status: Status,
    pub(crate) currency: Option<String>,
    pub(crate) line_items: Vec<LineItem>,
    pub(crate) success_url: Option<String>,
    pub(crate) cancel_url: Option<String>,
    client_reference_id: Option<String>,
    pub(crate) customer: Option<String>,
    customer_creation: Option<String>,
    pub(crate) customer_email: Option<String>,
    /// The email collected on the hosted page.
    collected_email: Option<String>,
    metadata: BTreeMap<String, String>,
    locale: Option<String>,
    payment_intent_data: PaymentIntentData,
    /// `setup_intent_data[metadata]`: copied onto the SetupIntent at completion.
    setup_intent_metadata: BTreeMap<String, String>,
    payment_intent: Option<String>,
    setup_intent: Option<String>,
    /// Why the last attempt on the hosted page failed, shown there.
    pub(crate) last_decline: Option<String>,
}

impl CheckoutSession {
    pub(crate) fn amount_total(&self) -> Option<i64> {
        (self.mode == "payment").then(|| {
            self.line_items
                .iter()
                .map(|item| item.unit_amount * item.quantity)
                .sum()
        })
    }

    fn payment_status(&self) -> &'static str {
        match (self.mode.as_str(), self.status) {
            ("payment", Status::Complete) => "paid",
            ("payment", _) => "unpaid",
            _ => "no_payment_required",
        }
    }

    pub(crate) fn to_json(&self, base_url: &str) -> Value {
        let amount = self.amount_total();
        let customer_details = self.collected_email.as_ref().map(|email| {
            json!({
                "address": null, "email": email, "name": null, "phone": null,
                "tax_exempt": "none", "tax_ids": [],
            })
        });
        json!({
            "id": self.id,
            "object": "checkout.session",
            "adaptive_pricing": null,
            "after_expiration": null,
            "allow_promotion_codes": null,
            "amount_subtotal": amount,
            "amount_total": amount,
            "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
            "billing_address_collection": null,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "client_secret": null,
            "collected_information": null,
            "consent": null,
            "consent_collection": null,
            "created": self.created,
            "currency": self.currency,
            "currency_conversion": null,
            "custom_fields": [],
            "custom_text": { "after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null },
            "customer": self.customer,
            "customer_creation": self.customer_creation,
            "customer_details": customer_details,
            "customer_email": self.customer_email,
            "discounts": [],
            "expires_at": self.expires_at,
            "invoice": null,
            "invoice_creation": null,
            "livemode": false,
            "locale": self.locale,
            "metadata": self.metadata,
            "mode": self.mode,
            "payment_intent": self.payment_intent,
            "payment_link": null,
            "payment_method_collection": "if_required",
            "payment_method_configuration_details": null,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "payment_status": self.payment_status(),
            "phone_number_collection": { "enabled": false },
            "recovered_from": null,
            "saved_payment_method_options": null,
            "setup_intent": self.setup_intent,
            "shipping_address_collection": null,
            "shipping_cost": null,
            "shipping_options": [],
            "status": self.status.as_str(),
            "submit_type": null,
            "subscription": null,
            "success_url": self.success_url,
            "total_details": amount.map(|_| json!({ "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 })),
            "ui_mode": "hosted_page",
            "url": (self.status == Status::Open).then(|| format!("{base_url}checkout/pay/{}", self.id)),
        })
    }
}

/// `POST /v1/checkout/sessions`.
pub(crate) fn create(store: &mut Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    let scope = ctx.scope();
    let now = now();
    let mode = params.required_str("mode")?;
    match mode {
        "payment" | "setup" => {}
        "subscription" => {
            return Err(ApiError::invalid_param(
                "mode",
                "The fake Stripe supports `payment` and `setup` Checkout Sessions only.",
            ));
        }
        other => {
            return Err(ApiError::invalid_param(
                "mode",
                &format!(
                    "Invalid mode: must be one of payment, setup, or subscription (got {other})"
                ),
            ));
        }
    }
    let hosted = matches!(params.str("ui_mode"), None | Some("hosted" | "hosted_page"));
    let success_url = params.string("success_url");
    if hosted && success_url.is_none() {
        return Err(ApiError::missing_param("success_url"));
    }

    let (line_items, mut currency) = if mode == "payment" {
        parse_line_items(params)?
    } else {
        if params.has("line_items") {
            return Err(ApiError::invalid_param(
                "line_items",
                "You cannot pass `line_items` in `setup` mode.",
            ));
        }
        (Vec::new(), None)
    };
    if mode == "setup" {
        currency = params.str("currency").map(str::to_ascii_lowercase);
    }

    let customer = params.string("customer");
    if let Some(id) = &customer
        && find(&store.customers, scope, id).is_none()
    {
        return Err(ApiError::no_such_in_param("customer", id, "customer"));
    }
    let customer_email = params.string("customer_email");
    if customer.is_some() && customer_email.is_some() {
        return Err(ApiError::invalid_request(
            None,
            Some("customer_email"),
            "You may only specify one of these parameters: customer, customer_email.",
        ));
    }
    let customer_creation = params.string("customer_creation");
    if let Some(value) = &customer_creation {
        if mode != "payment" {
            return Err(ApiError::invalid_param(
                "customer_creation",
                "`customer_creation` can only be used in `payment` mode.",
            ));
        }
        if value != "always" && value != "if_required" {
            return Err(ApiError::invalid_param(
                "customer_creation",
                "Invalid customer_creation: must be one of always or if_required",
            ));
        }
        if customer.is_some() {
            return Err(ApiError::invalid_request(
                None,
                Some("customer_creation"),
                "You may only specify one of these parameters: customer, customer_creation.",
            ));
        }
    }

    if mode != "setup" && params.has("setup_intent_data") {
        return Err(ApiError::invalid_param(
            "setup_intent_data",
            &format!("You can not pass `setup_intent_data` in `{mode}` mode."),
        ));
    }
    if mode != "payment" && params.has("payment_intent_data") {
        return Err(ApiError::invalid_param(
            "payment_intent_data",
            &format!("You can not pass `payment_intent_data` in `{mode}` mode."),
        ));
    }
    let payment_intent_data = PaymentIntentData {
        application_fee_amount: params.int("payment_intent_data[application_fee_amount]")?,
        setup_future_usage: params.string("payment_intent_data[setup_future_usage]"),
        description: params.string("payment_intent_data[description]"),
        metadata: params.string_map("payment_intent_data[metadata]"),
    };
    let total = line_items
        .iter()
        .map(|item| item.unit_amount * item.quantity)
        .sum();
    check_application_fee(
        scope,
        payment_intent_data.application_fee_amount,
        total,
        "payment_intent_data[application_fee_amount]",
    )?;
    if let Some(usage) = &payment_intent_data.setup_future_usage
        && usage != "off_session"
        && usage != "on_session"
    {
        return Err(ApiError::invalid_param(
            "payment_intent_data[setup_future_usage]",
            "Invalid payment_intent_data[setup_future_usage]: must be one of on_session or off_session",
        ));
    }

    let expires_at = params.int("expires_at")?.unwrap_or(now + DEFAULT_LIFETIME);
    if expires_at < now + MIN_LIFETIME {
        return Err(ApiError::invalid_param(
            "expires_at",
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
        ));
    }
    if expires_at > now + DEFAULT_LIFETIME {
        return Err(ApiError::invalid_param(
            "expires_at",
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
        ));
    }
    let client_reference_id = params.string("client_reference_id");
    if client_reference_id
        .as_ref()
        .is_some_and(|id| id.len() > 200)
    {
        return Err(ApiError::invalid_param(
            "client_reference_id",
            "client_reference_id must be at most 200 characters.",
        ));
    }

    let session = CheckoutSession {
        id: new_id("cs_test_a1"),
        account: scope.map(str::to_owned),
        created: now,
        expires_at,
        mode: mode.to_owned(),
        status: Status::Open,
        currency,
        line_items,
        success_url,
        cancel_url: params.string("cancel_url"),
        client_reference_id,
        customer,
        customer_creation,
        customer_email,
        collected_email: None,
        metadata: params.string_map("metadata"),
        locale: params.string("locale"),
        payment_intent_data,
        setup_intent_metadata: params.string_map("setup_intent_data[metadata]"),
        payment_intent: None,
        setup_intent: None,
        last_decline: None,
    };
    let json = session.to_json(&store.base_url);
    store.sessions.push(session);
    Ok(json)
}

/// `line_items[i][price_data][...]` and `line_items[i][quantity]`; all in one currency.
fn parse_line_items(params: &Params) -> Result<(Vec<LineItem>, Option<String>), ApiError> {
    let count = params.array_len("line_items");
    if count == 0 {
        return Err(ApiError::missing_param("line_items"));
    }
    let mut items = Vec::with_capacity(count);
    let mut currency: Option<String> = None;
    for i in 0..count {
        let p = format!("line_items[{i}]");
        if let Some(price) = params.str(&format!("{p}[price]")) {
            return Err(ApiError::no_such_in_param(
                "price",
                price,
                &format!("{p}[price]"),
            ));
        }
        if !params.has(&format!("{p}[price_data]")) {
            return Err(ApiError::missing_param(&format!("{p}[price_data]")));
        }
        let item_currency = params
            .required_str(&format!("{p}[price_data][currency]"))?
            .to_ascii_lowercase();
        let unit_amount = params.required_int(&format!("{p}[price_data][unit_amount]"))?;
        if unit_amount < 0 {
            return Err(ApiError::invalid_param(
                &format!("{p}[price_data][unit_amount]"),
                "This value must be greater than or equal to 0.",
            ));
        }
        if let Some(product) = params.str(&format!("{p}[price_data][product]")) {
            return Err(ApiError::no_such_in_param(
                "product",
                product,
                &format!("{p}[price_data][product]"),
            ));
        }
        let name = params
            .required_str(&format!("{p}[price_data][product_data][name]"))?
            .to_owned();
        let quantity = params.required_int(&format!("{p}[quantity]"))?;
        if quantity < 1 {
            return Err(ApiError::invalid_param(
                &format!("{p}[quantity]"),
                "This value must be greater than or equal to 1.",
            ));
        }
        match &currency {
            Some(c) if *c != item_currency => {
                return Err(ApiError::invalid_param(
                    &format!("{p}[price_data][currency]"),
                    "All line items must use the same currency.",
                ));
            }
            _ => currency = Some(item_currency),
        }
        items.push(LineItem {
            name,
            unit_amount,
            quantity,
        });
    }
    let total: i64 = items.iter().map(|i| i.unit_amount * i.quantity).sum();
    if total < 1 {
        return Err(ApiError::invalid_request(
            Some("amount_too_small"),
            Some("line_items"),
            "The Checkout Session's total amount due must be greater than 0.",
        ));
    }
    Ok((items, currency))
}

pub(crate) fn retrieve(store: &Store, ctx: &Ctx, id: &str) -> Result<Value, ApiError> {
    find(&store.sessions, ctx.scope(), id)
        .map(|s| s.to_json(&store.base_url))
        .ok_or_else(|| ApiError::no_such("checkout.session", id))
}

/// `GET /v1/checkout/sessions` (`created`, `status`, `payment_intent`, `customer`, pagination).
pub(crate) fn list(store: &Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    let created = Range::from_params(params, "created")?;
    let status = params.str("status");
    let payment_intent = params.str("payment_intent");
    let customer = params.str("customer");
    let items = visible(&store.sessions, ctx.scope())
        .filter(|s| created.contains(s.created))
        .filter(|s| status.is_none_or(|st| s.status.as_str() == st))
        .filter(|s| payment_intent.is_none_or(|pi| s.payment_intent.as_deref() == Some(pi)))
        .filter(|s| customer.is_none_or(|c| s.customer.as_deref() == Some(c)))
        .collect();
    list::page(items, params, "/v1/checkout/sessions", |s| {
        s.to_json(&store.base_url)
    })
}

/// `POST /v1/checkout/sessions/{id}/expire`.
pub(crate) fn expire(store: &mut Store, ctx: &Ctx, id: &str) -> Result<Value, ApiError> {
    let index = store
        .sessions
        .iter()
        .position(|s| s.id == id && s.account.as_deref() == ctx.scope())
        .ok_or_else(|| ApiError::no_such("checkout.session", id))?;
    expire_at(store, index, &ctx.request).map(|(session, _event)| session)
}

/// Expires the open session at `index`; returns the session and the
/// `checkout.session.expired` event.
pub(crate) fn expire_at(
    store: &mut Store,
    index: usize,
    request: &RequestInfo,
) -> Result<(Value, Value), ApiError> {
    let session = &mut store.sessions[index];
    if session.status != Status::Open {
        return Err(ApiError::invalid_request(
            None,
            None,
            &format!(
                "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\".",
                session.status.as_str()
            ),
        ));
    }
    session.status = Status::Expired;
    let scope = session.account.clone();
    let json = session.to_json(&store.base_url);
    let event = emit(
        store,
        scope.as_deref(),
        "checkout.session.expired",
        json.clone(),
        None,
        request,
    );
    Ok((json, event))
}

/// Pays the open session `id` with `card` as a customer would on the hosted
/// page: creates the PaymentIntent, Charge, and (when the session asks for
/// it) Customer and saved PaymentMethod, then emits
/// `checkout.session.completed`, which is returned.
pub(crate) fn complete(
    store: &mut Store,
    id: &str,
    card: Card,
    email: Option<String>,
) -> Result<Value, FakeError> {
    let index = store
        .sessions
        .iter()
        .position(|s| s.id == id)
        .ok_or_else(|| FakeError::NotFound(format!("checkout session '{id}'")))?;
    let session = store.sessions[index].clone();
    if session.status != Status::Open {
        return Err(FakeError::InvalidState(format!(
            "checkout session '{id}' is {}",
            session.status.as_str()
        )));
    }
    if let Some(code) = card.decline_code() {
        store.sessions[index].last_decline = Some(decline_message(code).to_owned());
        return Err(FakeError::CardDeclined {
            decline_code: code.to_owned(),
        });
    }
    let scope = session.account.as_deref();
    let email = email.or_else(|| session.customer_email.clone());
    let save_card =
        session.mode == "setup" || session.payment_intent_data.setup_future_usage.is_some();
    let customer = match &session.customer {
        Some(customer) => Some(customer.clone()),
        None if save_card || session.customer_creation.as_deref() == Some("always") => {
            let customer = Customer::new(scope, email.clone());
            let id = customer.id.clone();
            store.customers.push(customer);
            Some(id)
        }
        None => None,
    };
    let mut payment_method = PaymentMethod::new(scope, card.clone(), email.clone());
    if save_card {
        payment_method.customer.clone_from(&customer);
    }
    let payment_method_id = payment_method.id.clone();
    store.payment_methods.push(payment_method);

    let (payment_intent, setup_intent) = if session.mode == "payment" {
        let data = &session.payment_intent_data;
        let pi = charge_card(
            store,
            scope,
            Attempt {
                amount: session.amount_total().unwrap_or_default(),
                currency: session.currency.clone().unwrap_or_else(|| "usd".to_owned()),
                customer: customer.clone(),
                payment_method: payment_method_id,
                card,
                application_fee_amount: data.application_fee_amount,
                description: data.description.clone(),
                metadata: data.metadata.clone(),
                setup_future_usage: data.setup_future_usage.clone(),
                decline_code: None,
            },
            &RequestInfo::default(),
            false,
        );
        (Some(store.payment_intents[pi].id.clone()), None)
    } else {
        let intent = SetupIntent::succeeded(
            scope,
            customer.clone(),
            payment_method_id,
            session.setup_intent_metadata.clone(),
        );
        let id = intent.id.clone();
        store.setup_intents.push(intent);
        (None, Some(id))
    };

    let session = &mut store.sessions[index];
    session.status = Status::Complete;
    session.payment_intent = payment_intent;
    session.setup_intent = setup_intent;
    session.customer = customer;
    session.collected_email = email;
    session.last_decline = None;
    let json = session.to_json(&store.base_url);
    Ok(emit(
        store,
        scope,
        "checkout.session.completed",
        json,
        None,
        &RequestInfo::default(),
    ))
}
