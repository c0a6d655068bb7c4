//! The in-memory state of the fake: every object, scoped to the account it
//! lives on, plus the event log and its webhook deliveries.

use std::collections::{HashMap, HashSet};

use rand::Rng;
use rand::distributions::Alphanumeric;
use serde_json::Value;

use crate::accounts::{Account, AccountLink};
use crate::checkout::CheckoutSession;
use crate::customers::{Customer, PaymentMethod};
use crate::events::{Delivery, Event};
use crate::payment_intents::{Charge, PaymentIntent};
use crate::refunds::Refund;
use crate::setup_intents::SetupIntent;

/// Whose books an object is on: `None` is the platform itself, `Some(acct)`
/// a connected account (selected with the `Stripe-Account` header).
pub(crate) type Scope = Option<String>;

/// What every stored Stripe object has: an id and the account it lives on.
pub(crate) trait Record {
    fn id(&self) -> &str;
    fn scope(&self) -> Option<&str>;
}

macro_rules! impl_record {
    ($($ty:ty),* $(,)?) => {$(
        impl Record for $ty {
            fn id(&self) -> &str { &self.id }
            fn scope(&self) -> Option<&str> { self.account.as_deref() }
        }
    )*};
}
impl_record!(
    CheckoutSession,
    PaymentIntent,
    Charge,
    Customer,
    PaymentMethod,
    Refund,
    SetupIntent,
    Event
);

/// The objects visible in `scope`, newest first (Stripe's list order).
pub(crate) fn visible<'a, T: Record>(
    items: &'a [T],
    scope: Option<&'a str>,
) -> impl Iterator<Item = &'a T> {
    items.iter().rev().filter(move |item| item.scope() == scope)
}

pub(crate) fn find<'a, T: Record>(items: &'a [T], scope: Option<&str>, id: &str) -> Option<&'a T> {
    items
        .iter()
        .find(|item| item.id() == id && item.scope() == scope)
}

pub(crate) fn find_mut<'a, T: Record>(
    items: &'a mut [T],
    scope: Option<&str>,
    id: &str,
) -> Option<&'a mut T> {
    items
        .iter_mut()
        .find(|item| item.id() == id && item.scope() == scope)
}

/// A stored response for an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub(crate) struct CachedResponse {
    /// Method, path and body of the first request, to detect key reuse.
    pub(crate) fingerprint: String,
    pub(crate) status: u16,
    pub(crate) body: Value,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    /// `http://127.0.0.1:PORT/`, for URLs inside objects.
    pub(crate) base_url: String,
    /// Display names of connected accounts for hosted pages, from [`crate::Config`].
    pub(crate) business_names: HashMap<String, String>,
    pub(crate) accounts: Vec<Account>,
    pub(crate) account_links: Vec<AccountLink>,
    pub(crate) sessions: Vec<CheckoutSession>,
    pub(crate) payment_intents: Vec<PaymentIntent>,
    pub(crate) charges: Vec<Charge>,
    pub(crate) customers: Vec<Customer>,
    pub(crate) payment_methods: Vec<PaymentMethod>,
    pub(crate) refunds: Vec<Refund>,
    pub(crate) setup_intents: Vec<SetupIntent>,
    pub(crate) events: Vec<Event>,
    /// Events created since the last [`Store::take_outbox`], to be delivered.
    outbox: Vec<String>,
    pub(crate) deliveries: Vec<Delivery>,
    /// Customers whose saved cards decline off-session charges.
    pub(crate) declining_customers: HashSet<String>,
    pub(crate) idempotency: HashMap<(Scope, String), CachedResponse>,
    pub(crate) billing: crate::billing::BillingStore,
}

impl Store {
    pub(crate) fn new(base_url: String, business_names: HashMap<String, String>) -> Self {
        Self {
            base_url,
            business_names,
            ..Self::default()
        }
    }

    pub(crate) fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// Name shown on hosted pages for the merchant owning `scope`.
    pub(crate) fn merchant_name(&self, scope: Option<&str>) -> String {
        let Some(id) = scope else {
            return "Platform".to_owned();
        };
        self.business_names
            .get(id)
            .cloned()
            .or_else(|| self.account(id).and_then(|a| a.business_name.clone()))
            .unwrap_or_else(|| id.to_owned())
    }

    pub(crate) fn push_event(&mut self, event: Event) -> Value {
        let json = event.json.clone();
        self.outbox.push(event.id.clone());
        self.events.push(event);
        json
    }

    /// Ids of the events created since the last call, oldest first.
    pub(crate) fn take_outbox(&mut self) -> Vec<String> {
        std::mem::take(&mut self.outbox)
    }

    pub(crate) fn event(&self, id: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.id == id)
    }
}

/// A fresh Stripe-style id: `prefix` + 24 random alphanumerics.
pub(crate) fn new_id(prefix: &str) -> String {
    let suffix: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("{prefix}{suffix}")
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
