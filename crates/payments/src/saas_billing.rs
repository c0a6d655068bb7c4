//! SaaS billing: each ISP is a customer of the platform's own Stripe account (Stripe Billing),
//! on one subscription with a metered item priced per active subscriber per month.
//!
//! * [`sync_subscriptions`] makes Stripe match the price list: every ISP gets a Customer and a
//!   subscription on its plan's metered Price (the plan's price per subscriber), and a plan or
//!   price change moves the subscription item to the new Price. Every create carries an
//!   Idempotency-Key naming the tenant (or the price), and the ids are stored
//!   (`saas_billing_customers`, `saas_stripe_objects`), so reruns, crashes and several nodes
//!   create each object once. [`ensure_subscription`] does the same for one ISP (signup, plan
//!   change) and is safe to call any number of times.
//! * Usage is reported once per ISP and day in two steps. [`record_daily_usage`] writes every
//!   ISP's report in one statement (`saas_usage_reports`, keyed (tenant, day),
//!   `ON CONFLICT DO NOTHING`) from the active-subscriber figure of `tenant_usage` (the platform
//!   never counts an ISP's rows itself). [`send_usage_reports`] then leases unsent reports
//!   (`FOR UPDATE SKIP LOCKED`) and sends each as a Billing Meter Event whose `identifier`, and
//!   the request's Idempotency-Key, derive from (tenant, day): a second run, a second node or a
//!   crash between recording and sending (or between sending and marking) never counts twice.
//!   The meter aggregates with `last`, so a period's invoice bills the last day's figure.
//! * [`apply_platform_event`] takes the platform account's own invoice events (`invoice.*`; the
//!   connected accounts' events are the Connect webhook's): it records the invoice for display
//!   and says whether the ISP's payment failed or succeeded, which the caller hands to dunning.
//! * The card the ISP pays with: [`start_card_setup`] opens a Checkout Session in `setup` mode
//!   for the ISP's customer on the platform account; [`complete_card_setup`] (the owner's
//!   return to the console, or the `checkout.session.completed` webhook when they never come
//!   back) makes the saved card the customer's `invoice_settings.default_payment_method`,
//!   stores its brand, last 4 digits and expiry for display, and audits it, once per session.
//!
//! No Stripe call runs inside a transaction.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use kabinet_core::TenantId;
use kabinet_db::{Database, sqlx};
use serde_json::json;
use sqlx::Row;
use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_core::customer::CreateCustomer;
use stripe_shared::{Invoice, Subscription};
use stripe_webhook::{Event, EventObject};

use crate::error::PaymentsError;
use crate::stripe_api::Stripe;
use crate::webhook::WebhookOutcome;

/// The meter's event name on the platform account.
pub const METER_EVENT_NAME: &str = "kabinet_active_subscribers";

/// How long a sender holds an unsent report before another may try it.
const SEND_LEASE_SECS: i64 = 120;

// ---------------------------------------------------------------------------------------------
// Stripe Billing calls (the platform account: never a `Stripe-Account` header).

#[derive(miniserde::Deserialize)]
struct Created {
    id: String,
}

#[derive(miniserde::Deserialize)]
struct MeterEventCreated {
    identifier: String,
}

fn key(raw: String) -> Result<RequestStrategy, PaymentsError> {
    let key = IdempotencyKey::new(raw).map_err(|e| PaymentsError::Provider {
        code: None,
        message: e.to_string(),
    })?;
    Ok(RequestStrategy::Idempotent(key))
}

impl Stripe {
    async fn create_meter(&self) -> Result<String, PaymentsError> {
        let form = json!({
            "event_name": METER_EVENT_NAME,
            "display_name": "Kabinet active subscribers",
            "default_aggregation": { "formula": "last" },
            "customer_mapping": { "type": "by_id", "event_payload_key": "stripe_customer_id" },
            "value_settings": { "event_payload_key": "value" },
        });
        let created: Created = RequestBuilder::new(StripeMethod::Post, "/billing/meters")
            .form(&form)
            .customize()
            .request_strategy(key(format!("kabinet-saas-meter-{METER_EVENT_NAME}"))?)
            .send(&self.client)
            .await?;
        Ok(created.id)
    }

    async fn create_metered_price(
        &self,
        price: &PlanPrice,
        meter: &str,
    ) -> Result<String, PaymentsError> {
        let form = json!({
            "currency": price.currency.to_ascii_lowercase(),
            "unit_amount": price.amount.to_string(),
            "nickname": format!("Kabinet {} — active subscriber", price.plan),
            "product_data": { "name": format!("Kabinet {}", price.plan) },
            "recurring": { "interval": "month", "usage_type": "metered", "meter": meter },
            "metadata": { "kabinet_price": price.key() },
        });
        let created: Created = RequestBuilder::new(StripeMethod::Post, "/prices")
            .form(&form)
            .customize()
            .request_strategy(key(format!("kabinet-saas-{}", price.key()))?)
            .send(&self.client)
            .await?;
        Ok(created.id)
    }

    async fn create_saas_customer(
        &self,
        tenant: TenantId,
        name: &str,
        slug: &str,
    ) -> Result<String, PaymentsError> {
        let metadata = HashMap::from([
            ("tenant_id".to_owned(), tenant.to_string()),
            ("slug".to_owned(), slug.to_owned()),
        ]);
        let customer = CreateCustomer::new()
            .name(name)
            .description(format!("Kabinet ISP {slug}"))
            .metadata(metadata)
            .customize()
            .request_strategy(key(format!("kabinet-saas-customer-{}", tenant.as_uuid()))?)
            .send(&self.client)
            .await?;
        Ok(customer.id.to_string())
    }

    /// The metered subscription: `(subscription id, item id)`.
    async fn create_saas_subscription(
        &self,
        tenant: TenantId,
        customer: &str,
        price: &str,
    ) -> Result<(String, String), PaymentsError> {
        let form = json!({
            "customer": customer,
            "collection_method": "charge_automatically",
            "items": [{ "price": price }],
            "metadata": { "tenant_id": tenant.to_string() },
        });
        let sub: Subscription = RequestBuilder::new(StripeMethod::Post, "/subscriptions")
            .form(&form)
            .customize()
            .request_strategy(key(format!(
                "kabinet-saas-subscription-{}",
                tenant.as_uuid()
            ))?)
            .send(&self.client)
            .await?;
        let item = sub
            .items
            .data
            .first()
            .map(|i| i.id.to_string())
            .ok_or_else(|| PaymentsError::Provider {
                code: None,
                message: "the subscription has no item".into(),
            })?;
        Ok((sub.id.to_string(), item))
    }

    async fn move_item_to_price(
        &self,
        tenant: TenantId,
        item: &str,
        price: &str,
    ) -> Result<(), PaymentsError> {
        let form = json!({ "price": price, "proration_behavior": "none" });
        let _: Created =
            RequestBuilder::new(StripeMethod::Post, format!("/subscription_items/{item}"))
                .form(&form)
                .customize()
                .request_strategy(key(format!(
                    "kabinet-saas-item-{}-{price}",
                    tenant.as_uuid()
                ))?)
                .send(&self.client)
                .await?;
        Ok(())
    }

    async fn send_meter_event(
        &self,
        identifier: &str,
        customer: &str,
        value: i32,
        timestamp: i64,
    ) -> Result<(), PaymentsError> {
        let form = json!({
            "event_name": METER_EVENT_NAME,
            "identifier": identifier,
            "timestamp": timestamp.to_string(),
            "payload": { "stripe_customer_id": customer, "value": value.to_string() },
        });
        let sent: MeterEventCreated =
            RequestBuilder::new(StripeMethod::Post, "/billing/meter_events")
                .form(&form)
                .customize()
                .request_strategy(key(identifier.to_owned())?)
                .send(&self.client)
                .await?;
        debug_assert_eq!(sent.identifier, identifier);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Customers and subscriptions.

/// A plan's price as Stripe needs it; one Stripe Price per distinct value.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PlanPrice {
    plan: String,
    amount: i64,
    currency: String,
}

impl PlanPrice {
    fn key(&self) -> String {
        format!("price:{}:{}:{}", self.plan, self.amount, self.currency)
    }
}

/// What one [`sync_subscriptions`] pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub customers_created: u32,
    pub subscriptions_created: u32,
    pub prices_changed: u32,
    /// ISPs Stripe refused or could not be reached for; retried next pass.
    pub failed: u32,
}

struct Pending {
    tenant: TenantId,
    slug: String,
    name: String,
    price: PlanPrice,
    customer: Option<String>,
    subscription: Option<(String, String)>,
    price_key: Option<String>,
}

const PENDING_SQL: &str = "SELECT t.id, t.slug, t.display_name, p.code, p.price_per_subscriber, p.currency, \
       c.customer_id, c.subscription_id, c.subscription_item_id, c.price_key \
     FROM tenants t JOIN saas_plans p ON p.code = t.saas_plan \
     LEFT JOIN saas_billing_customers c ON c.tenant_id = t.id \
     WHERE (c.subscription_id IS NULL \
        OR c.price_key IS DISTINCT FROM 'price:' || p.code || ':' || p.price_per_subscriber || ':' || p.currency)";

async fn pending(db: &Database, tenant: Option<TenantId>) -> Result<Vec<Pending>, PaymentsError> {
    let mut tx = db.platform_tx().await?;
    let rows = sqlx::query(&format!(
        "{PENDING_SQL} AND ($1::uuid IS NULL OR t.id = $1) ORDER BY t.created_at, t.id"
    ))
    .bind(tenant.map(|t| t.as_uuid()))
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|row| {
            let sub: Option<String> = row.try_get("subscription_id")?;
            let item: Option<String> = row.try_get("subscription_item_id")?;
            Ok(Pending {
                tenant: TenantId(row.try_get("id")?),
                slug: row.try_get("slug")?,
                name: row.try_get("display_name")?,
                price: PlanPrice {
                    plan: row.try_get("code")?,
                    amount: row.try_get("price_per_subscriber")?,
                    currency: row.try_get("currency")?,
                },
                customer: row.try_get("customer_id")?,
                subscription: sub.zip(item),
                price_key: row.try_get("price_key")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The id stored under `key` in `saas_stripe_objects`, or the one `create` makes (stored first
/// wins: a concurrent creator's object came from the same idempotent request anyway).
async fn stripe_object<F, Fut>(db: &Database, key: &str, create: F) -> Result<String, PaymentsError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<String, PaymentsError>>,
{
    let mut tx = db.platform_tx().await?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT stripe_id FROM saas_stripe_objects WHERE key = $1")
            .bind(key)
            .fetch_optional(tx.conn())
            .await?;
    tx.commit().await?;
    if let Some(id) = stored {
        return Ok(id);
    }
    let created = create().await?;
    let mut tx = db.platform_tx().await?;
    let id: String = sqlx::query_scalar(
        "WITH ins AS (INSERT INTO saas_stripe_objects (key, stripe_id) VALUES ($1, $2) \
           ON CONFLICT (key) DO NOTHING RETURNING stripe_id) \
         SELECT stripe_id FROM ins UNION ALL SELECT stripe_id FROM saas_stripe_objects WHERE key = $1 \
         LIMIT 1",
    )
    .bind(key)
    .bind(&created)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn price_id(
    db: &Database,
    stripe: &Stripe,
    price: &PlanPrice,
) -> Result<String, PaymentsError> {
    let meter = stripe_object(db, &format!("meter:{METER_EVENT_NAME}"), || {
        stripe.create_meter()
    })
    .await?;
    stripe_object(db, &price.key(), || {
        stripe.create_metered_price(price, &meter)
    })
    .await
}

/// Brings one pending ISP in line with Stripe; returns what it changed.
async fn sync_one(db: &Database, stripe: &Stripe, p: Pending) -> Result<SyncReport, PaymentsError> {
    let mut report = SyncReport::default();
    let customer = match p.customer {
        Some(c) => c,
        None => {
            let created = stripe
                .create_saas_customer(p.tenant, &p.name, &p.slug)
                .await?;
            let mut tx = db.platform_tx().await?;
            let stored: String = sqlx::query_scalar(
                "WITH ins AS (INSERT INTO saas_billing_customers (tenant_id, customer_id) VALUES ($1, $2) \
                   ON CONFLICT (tenant_id) DO NOTHING RETURNING customer_id) \
                 SELECT customer_id FROM ins \
                 UNION ALL SELECT customer_id FROM saas_billing_customers WHERE tenant_id = $1 LIMIT 1",
            )
            .bind(p.tenant.as_uuid())
            .bind(&created)
            .fetch_one(tx.conn())
            .await?;
            tx.commit().await?;
            report.customers_created += 1;
            stored
        }
    };
    let price = price_id(db, stripe, &p.price).await?;
    let key = p.price.key();
    match p.subscription {
        None => {
            let (sub, item) = stripe
                .create_saas_subscription(p.tenant, &customer, &price)
                .await?;
            let mut tx = db.platform_tx().await?;
            sqlx::query(
                "UPDATE saas_billing_customers SET subscription_id = $2, subscription_item_id = $3, \
                   price_key = $4, updated_at = now() \
                 WHERE tenant_id = $1 AND subscription_id IS NULL",
            )
            .bind(p.tenant.as_uuid())
            .bind(&sub)
            .bind(&item)
            .bind(&key)
            .execute(tx.conn())
            .await?;
            tx.commit().await?;
            report.subscriptions_created += 1;
        }
        Some((_sub, item)) if p.price_key.as_deref() != Some(key.as_str()) => {
            stripe.move_item_to_price(p.tenant, &item, &price).await?;
            let mut tx = db.platform_tx().await?;
            sqlx::query(
                "UPDATE saas_billing_customers SET price_key = $2, updated_at = now() WHERE tenant_id = $1",
            )
            .bind(p.tenant.as_uuid())
            .bind(&key)
            .execute(tx.conn())
            .await?;
            tx.commit().await?;
            report.prices_changed += 1;
        }
        Some(_) => {}
    }
    Ok(report)
}

/// Gives every ISP that lacks one a Stripe customer and metered subscription, and moves those
/// whose plan price changed to the new Price. One ISP's failure does not stop the others.
pub async fn sync_subscriptions(
    db: &Database,
    stripe: &Stripe,
) -> Result<SyncReport, PaymentsError> {
    let mut total = SyncReport::default();
    for p in pending(db, None).await? {
        let tenant = p.tenant;
        match sync_one(db, stripe, p).await {
            Ok(r) => {
                total.customers_created += r.customers_created;
                total.subscriptions_created += r.subscriptions_created;
                total.prices_changed += r.prices_changed;
            }
            Err(e) => {
                tracing::warn!(%tenant, error = %e, "SaaS subscription sync failed; retried next round");
                total.failed += 1;
            }
        }
    }
    Ok(total)
}

/// Makes sure `tenant` is a Stripe customer on a metered subscription at its plan's price
/// (signup, plan change). Idempotent.
pub async fn ensure_subscription(
    db: &Database,
    stripe: &Stripe,
    tenant: TenantId,
) -> Result<SyncReport, PaymentsError> {
    match pending(db, Some(tenant)).await?.into_iter().next() {
        Some(p) => sync_one(db, stripe, p).await,
        None => Ok(SyncReport::default()),
    }
}

// ---------------------------------------------------------------------------------------------
// Daily usage.

/// The identifier of `tenant`'s report for `day`: the meter event's `identifier` and the
/// request's Idempotency-Key.
pub fn usage_identifier(tenant: TenantId, day: NaiveDate) -> String {
    format!("kabinet-usage-{}-{day}", tenant.as_uuid())
}

/// Records the report of `day` for every ISP with a subscription, in one statement, from its
/// latest active-subscriber figure (measured within the day before `at`). An ISP already
/// reported for `day` keeps its report. Returns how many reports were written now.
pub async fn record_daily_usage(
    db: &Database,
    day: NaiveDate,
    at: DateTime<Utc>,
) -> Result<u64, PaymentsError> {
    let mut tx = db.platform_tx().await?;
    let written = sqlx::query(
        "INSERT INTO saas_usage_reports (tenant_id, day, active_subscribers, customer_id, identifier, counted_at) \
         SELECT c.tenant_id, $1, u.active_subscribers, c.customer_id, \
                'kabinet-usage-' || c.tenant_id || '-' || to_char($1::date, 'YYYY-MM-DD'), $2 \
         FROM saas_billing_customers c \
         JOIN tenant_usage u ON u.tenant_id = c.tenant_id \
         WHERE c.subscription_id IS NOT NULL AND u.measured_at > $2 - interval '1 day' \
         ON CONFLICT (tenant_id, day) DO NOTHING",
    )
    .bind(day)
    .bind(at)
    .execute(tx.conn())
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(written)
}

/// What one [`send_usage_reports`] pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendReport {
    pub sent: u32,
    pub failed: u32,
}

/// Sends every unsent report no other sender holds, oldest day first. A report is leased before
/// the call and marked sent after it; a sender that dies in between leaves it to be sent again
/// once the lease ends, under the same identifier, which Stripe counts once.
pub async fn send_usage_reports(
    db: &Database,
    stripe: &Stripe,
    now: DateTime<Utc>,
) -> Result<SendReport, PaymentsError> {
    let mut tx = db.platform_tx().await?;
    let claimed: Vec<(uuid::Uuid, NaiveDate, i32, String, String, DateTime<Utc>)> = sqlx::query_as(
        "UPDATE saas_usage_reports r SET claimed_until = $1 + make_interval(secs => $2), \
           attempts = r.attempts + 1 \
         FROM (SELECT tenant_id, day FROM saas_usage_reports \
               WHERE sent_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $1) \
               ORDER BY day, tenant_id LIMIT 500 FOR UPDATE SKIP LOCKED) due \
         WHERE r.tenant_id = due.tenant_id AND r.day = due.day \
         RETURNING r.tenant_id, r.day, r.active_subscribers, r.customer_id, r.identifier, r.counted_at",
    )
    .bind(now)
    .bind(SEND_LEASE_SECS as f64)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    let mut report = SendReport::default();
    for (tenant, day, value, customer, identifier, counted_at) in claimed {
        let result = stripe
            .send_meter_event(&identifier, &customer, value, counted_at.timestamp())
            .await;
        let mut tx = db.platform_tx().await?;
        match &result {
            Ok(()) => {
                sqlx::query(
                    "UPDATE saas_usage_reports SET sent_at = now(), claimed_until = NULL, last_error = NULL \
                     WHERE tenant_id = $1 AND day = $2 AND sent_at IS NULL",
                )
                .bind(tenant)
                .bind(day)
                .execute(tx.conn())
                .await?;
                report.sent += 1;
            }
            Err(e) => {
                tracing::warn!(%tenant, %day, error = %e, "SaaS usage report not sent; retried later");
                sqlx::query(
                    "UPDATE saas_usage_reports SET claimed_until = NULL, last_error = $3 \
                     WHERE tenant_id = $1 AND day = $2 AND sent_at IS NULL",
                )
                .bind(tenant)
                .bind(day)
                .bind(e.to_string())
                .execute(tx.conn())
                .await?;
                report.failed += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(report)
}

/// One scheduler pass of SaaS billing at `now`: subscriptions in line with the price list, the
/// day's usage recorded once, and every unsent report sent.
pub async fn run_saas_billing(
    db: &Database,
    stripe: &Stripe,
    now: DateTime<Utc>,
) -> Result<(SyncReport, SendReport), PaymentsError> {
    let sync = sync_subscriptions(db, stripe).await?;
    record_daily_usage(db, now.date_naive(), now).await?;
    let sent = send_usage_reports(db, stripe, now).await?;
    Ok((sync, sent))
}

// ---------------------------------------------------------------------------------------------
// The platform account's invoice events.

/// What an invoice event means for the ISP's dunning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaasPayment {
    /// A payment attempt failed and the invoice is still unpaid.
    Failed,
    /// Paid, and no other invoice of the ISP is left failed.
    Succeeded,
}

/// An applied platform invoice event: whose, and what it means for dunning (`None`: nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaasInvoiceEvent {
    pub tenant: TenantId,
    pub invoice_id: String,
    pub payment: Option<SaasPayment>,
    /// When Stripe created the event: a failure's episode starts then, whatever the delivery.
    pub at: DateTime<Utc>,
}

fn to_time(ts: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(ts, 0).unwrap_or_default()
}

/// Applies an event of the platform account itself (no `account`). Invoice events of a known
/// customer are recorded; everything else is ignored. Redeliveries apply again harmlessly: the
/// invoice row only moves forward, and dunning's entry points are idempotent.
pub(crate) async fn apply_platform_event(
    db: &Database,
    stripe: &Stripe,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<WebhookOutcome, PaymentsError> {
    let (invoice, kind): (&Invoice, &str) = match &event.data.object {
        // A card setup the owner finished at Stripe but never came back from.
        EventObject::CheckoutSessionCompleted(session)
            if session.mode == stripe_shared::CheckoutSessionMode::Setup =>
        {
            let id = session.id.to_string();
            return Ok(
                match complete_card_setup(db, stripe, &id, None, &CardActor::default()).await? {
                    Some((tenant, card)) => WebhookOutcome::Applied(format!(
                        "saas card {} {} of {tenant}",
                        card.brand, card.last4
                    )),
                    None => WebhookOutcome::Ignored(format!("setup session {id}")),
                },
            );
        }
        EventObject::InvoicePaid(i) => (i, "paid"),
        EventObject::InvoicePaymentFailed(i) => (i, "payment_failed"),
        EventObject::InvoiceFinalized(i) => (i, "finalized"),
        _ => {
            return Ok(WebhookOutcome::Ignored(format!(
                "platform event {}",
                event.type_.as_str()
            )));
        }
    };
    let (Some(invoice_id), Some(customer)) = (
        invoice.id.as_ref().map(|i| i.to_string()),
        invoice.customer.as_ref().map(|c| c.id().to_string()),
    ) else {
        return Ok(WebhookOutcome::Ignored(
            "invoice without id or customer".into(),
        ));
    };
    let mut tx = db.platform_tx().await?;
    // The ISP comes from the customer Stripe signed for, never from metadata.
    let tenant: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT tenant_id FROM saas_billing_customers WHERE customer_id = $1")
            .bind(&customer)
            .fetch_optional(tx.conn())
            .await?;
    let Some(tenant) = tenant else {
        tx.commit().await?;
        tracing::warn!(event = %event.id, %customer, "invoice of a customer no ISP has");
        return Ok(WebhookOutcome::Ignored("unknown customer".into()));
    };
    let status = invoice
        .status
        .as_ref()
        .map_or("open", |s| s.as_str())
        .to_owned();
    let quantity = invoice
        .lines
        .data
        .first()
        .and_then(|l| l.quantity)
        .and_then(|q| i64::try_from(q).ok());
    let failed = match kind {
        "payment_failed" => Some(true),
        "paid" => Some(false),
        _ => None,
    };
    let row: (String, bool) = sqlx::query_as(
        "INSERT INTO saas_invoices AS i (tenant_id, invoice_id, number, status, amount_due, amount_paid, \
           currency, quantity, period_start, period_end, attempt_count, payment_failed, hosted_invoice_url, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, upper($7), $8, $9, $10, $11, COALESCE($12, false) AND $4 = 'open', $13, $14) \
         ON CONFLICT (tenant_id, invoice_id) DO UPDATE SET \
           status = CASE WHEN i.status IN ('draft', 'open') THEN EXCLUDED.status ELSE i.status END, \
           number = COALESCE(EXCLUDED.number, i.number), \
           amount_due = EXCLUDED.amount_due, \
           amount_paid = GREATEST(i.amount_paid, EXCLUDED.amount_paid), \
           quantity = COALESCE(EXCLUDED.quantity, i.quantity), \
           attempt_count = GREATEST(i.attempt_count, EXCLUDED.attempt_count), \
           payment_failed = CASE WHEN (CASE WHEN i.status IN ('draft', 'open') THEN EXCLUDED.status ELSE i.status END) = 'open' \
                                 THEN COALESCE($12, i.payment_failed) ELSE false END, \
           hosted_invoice_url = COALESCE(EXCLUDED.hosted_invoice_url, i.hosted_invoice_url), \
           updated_at = now() \
         RETURNING status, payment_failed",
    )
    .bind(tenant)
    .bind(&invoice_id)
    .bind(&invoice.number)
    .bind(&status)
    .bind(invoice.amount_due)
    .bind(invoice.amount_paid)
    .bind(invoice.currency.to_string())
    .bind(quantity)
    .bind(to_time(invoice.period_start))
    .bind(to_time(invoice.period_end))
    .bind(i32::try_from(invoice.attempt_count).unwrap_or(i32::MAX))
    .bind(failed)
    .bind(&invoice.hosted_invoice_url)
    .bind(to_time(invoice.created))
    .fetch_one(tx.conn())
    .await?;
    let (stored_status, stored_failed) = row;
    let payment = match kind {
        "payment_failed" if stored_status == "open" && stored_failed => Some(SaasPayment::Failed),
        "paid" if stored_status == "paid" => {
            let others_failed: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM saas_invoices \
                 WHERE tenant_id = $1 AND status = 'open' AND payment_failed)",
            )
            .bind(tenant)
            .fetch_one(tx.conn())
            .await?;
            (!others_failed).then_some(SaasPayment::Succeeded)
        }
        _ => None,
    };
    tx.commit().await?;
    Ok(WebhookOutcome::Saas(SaasInvoiceEvent {
        tenant: TenantId(tenant),
        invoice_id,
        payment,
        at: DateTime::<Utc>::from_timestamp(event.created, 0).unwrap_or(now),
    }))
}

// ---------------------------------------------------------------------------------------------
// Reading, for the ISP's plan page and the operator.

/// An ISP's Stripe billing as the consoles show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaasBillingView {
    /// `None` until the ISP is a Stripe customer.
    pub customer_id: Option<String>,
    pub subscription_id: Option<String>,
    pub reports: Vec<UsageReport>,
    pub invoices: Vec<SaasInvoice>,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct UsageReport {
    pub day: NaiveDate,
    pub active_subscribers: i32,
    pub counted_at: DateTime<Utc>,
    /// `None` while Stripe has not acknowledged it.
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SaasInvoice {
    pub invoice_id: String,
    pub number: Option<String>,
    pub status: String,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub currency: String,
    pub quantity: Option<i64>,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub attempt_count: i32,
    pub payment_failed: bool,
    pub hosted_invoice_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// `tenant`'s billing: its Stripe ids, the last `limit` usage reports and invoices.
pub async fn saas_billing_view(
    conn: &mut sqlx::PgConnection,
    tenant: TenantId,
    limit: i64,
) -> Result<SaasBillingView, PaymentsError> {
    let ids: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT customer_id, subscription_id FROM saas_billing_customers WHERE tenant_id = $1",
    )
    .bind(tenant.as_uuid())
    .fetch_optional(&mut *conn)
    .await?;
    let reports = sqlx::query_as::<_, UsageReport>(
        "SELECT day, active_subscribers, counted_at, sent_at, attempts, last_error \
         FROM saas_usage_reports WHERE tenant_id = $1 ORDER BY day DESC LIMIT $2",
    )
    .bind(tenant.as_uuid())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let invoices = sqlx::query_as::<_, SaasInvoice>(
        "SELECT invoice_id, number, status, amount_due, amount_paid, currency, quantity, period_start, \
           period_end, attempt_count, payment_failed, hosted_invoice_url, created_at \
         FROM saas_invoices WHERE tenant_id = $1 ORDER BY created_at DESC, invoice_id LIMIT $2",
    )
    .bind(tenant.as_uuid())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let (customer_id, subscription_id) = match ids {
        Some((c, s)) => (Some(c), s),
        None => (None, None),
    };
    Ok(SaasBillingView {
        customer_id,
        subscription_id,
        reports,
        invoices,
    })
}

// ---------------------------------------------------------------------------------------------
// The card the ISP pays with: Checkout in `setup` mode on the platform account.

/// The card an ISP's Kabinet subscription is charged to (display details only).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SaasCard {
    pub payment_method_id: String,
    /// Stripe's brand name: `visa`, `mastercard`, `amex` …
    pub brand: String,
    pub last4: String,
    pub exp_month: i16,
    pub exp_year: i16,
    /// When it became the subscription's card.
    pub set_at: DateTime<Utc>,
}

/// A started card setup: where to send the owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardSetup {
    pub session_id: String,
    /// Stripe's hosted page.
    pub url: String,
}

/// Who applies a completed setup, for the ISP's audit log: a staff member on their return to
/// the console, or the platform's webhook (`staff: None`).
#[derive(Clone, Debug, Default)]
pub struct CardActor {
    pub staff: Option<kabinet_core::StaffId>,
    pub client: kabinet_access::ClientInfo,
}

/// What the metadata of Kabinet's card setups says, so the webhook can tell them apart.
const CARD_SETUP_PURPOSE: &str = "kabinet_saas_card";

/// The metadata key holding when Kabinet opened a setup session (microseconds since the epoch).
const STARTED_AT_KEY: &str = "kabinet_started_at_us";

/// The Checkout Session's `success_url` parameter naming the session.
pub const CARD_SESSION_PARAM: &str = "card_session";

struct SetupResult {
    customer: String,
    payment_method: String,
    /// When Kabinet opened the session (its order among the ISP's setups).
    created: DateTime<Utc>,
}

impl Stripe {
    async fn create_card_setup(
        &self,
        tenant: TenantId,
        customer: &str,
        currency: &str,
        return_url: &str,
    ) -> Result<CardSetup, PaymentsError> {
        use stripe_checkout::checkout_session::{
            CreateCheckoutSession, CreateCheckoutSessionSetupIntentData,
        };
        // When Kabinet opened it, to the microsecond: which of two sessions is the newer
        // (Stripe's `created` counts whole seconds).
        let metadata = HashMap::from([
            ("tenant_id".to_owned(), tenant.to_string()),
            ("purpose".to_owned(), CARD_SETUP_PURPOSE.to_owned()),
            (
                STARTED_AT_KEY.to_owned(),
                Utc::now().timestamp_micros().to_string(),
            ),
        ]);
        let mut intent = CreateCheckoutSessionSetupIntentData::new();
        intent.metadata = Some(metadata.clone());
        intent.description = Some("Kabinet subscription".to_owned());
        let sep = if return_url.contains('?') { '&' } else { '?' };
        let session = CreateCheckoutSession::new()
            .mode(stripe_shared::CheckoutSessionMode::Setup)
            .customer(customer)
            .currency(crate::stripe_api::currency(currency)?)
            .setup_intent_data(intent)
            .metadata(metadata)
            .client_reference_id(tenant.to_string())
            .success_url(format!(
                "{return_url}{sep}{CARD_SESSION_PARAM}={{CHECKOUT_SESSION_ID}}"
            ))
            .cancel_url(return_url)
            .customize()
            // Each press is a new session; the key only makes a retried request safe.
            .request_strategy(key(format!(
                "kabinet-saas-card-setup-{}-{}",
                tenant.as_uuid(),
                uuid::Uuid::now_v7()
            ))?)
            .send(&self.client)
            .await?;
        let url = session.url.ok_or_else(|| PaymentsError::Provider {
            code: None,
            message: "the setup session has no URL".into(),
        })?;
        Ok(CardSetup {
            session_id: session.id.to_string(),
            url,
        })
    }

    /// The completed setup session `id`: its customer and the card it saved. `None` for a
    /// session that is not a Kabinet card setup.
    async fn setup_result(&self, id: &str) -> Result<Option<SetupResult>, PaymentsError> {
        use stripe_checkout::checkout_session::RetrieveCheckoutSession;
        use stripe_shared::{CheckoutSessionMode, CheckoutSessionStatus};
        let session = RetrieveCheckoutSession::new(id)
            .expand(vec!["setup_intent".to_owned()])
            .send(&self.client)
            .await?;
        let ours = session.mode == CheckoutSessionMode::Setup
            && session
                .metadata
                .as_ref()
                .and_then(|m| m.get("purpose"))
                .is_some_and(|p| p == CARD_SETUP_PURPOSE);
        let Some(customer) = session.customer.as_ref().map(|c| c.id().to_string()) else {
            return Ok(None);
        };
        if !ours {
            return Ok(None);
        }
        if session.status != Some(CheckoutSessionStatus::Complete) {
            return Err(PaymentsError::CardSetupIncomplete);
        }
        let payment_method = session
            .setup_intent
            .as_ref()
            .and_then(|s| s.as_object())
            .and_then(|s| s.payment_method.as_ref())
            .map(|pm| pm.id().to_string())
            .ok_or(PaymentsError::CardSetupIncomplete)?;
        let started = session
            .metadata
            .as_ref()
            .and_then(|m| m.get(STARTED_AT_KEY))
            .and_then(|us| us.parse::<i64>().ok())
            .and_then(DateTime::<Utc>::from_timestamp_micros);
        Ok(Some(SetupResult {
            customer,
            payment_method,
            created: started.unwrap_or_else(|| to_time(session.created)),
        }))
    }

    /// The card's display details: `(brand, last4, exp_month, exp_year)`.
    async fn card_details(
        &self,
        payment_method: &str,
    ) -> Result<(String, String, i64, i64), PaymentsError> {
        use stripe_payment::payment_method::RetrievePaymentMethod;
        let pm = RetrievePaymentMethod::new(payment_method)
            .send(&self.client)
            .await?;
        let card = pm.card.ok_or_else(|| PaymentsError::Provider {
            code: None,
            message: "the saved payment method is not a card".into(),
        })?;
        Ok((card.brand, card.last4, card.exp_month, card.exp_year))
    }

    async fn set_default_payment_method(
        &self,
        customer: &str,
        payment_method: &str,
    ) -> Result<(), PaymentsError> {
        use stripe_core::customer::{UpdateCustomer, UpdateCustomerInvoiceSettings};
        let mut settings = UpdateCustomerInvoiceSettings::new();
        settings.default_payment_method = Some(payment_method.to_owned());
        UpdateCustomer::new(customer)
            .invoice_settings(settings)
            .customize()
            .request_strategy(key(format!(
                "kabinet-saas-default-pm-{customer}-{payment_method}"
            ))?)
            .send(&self.client)
            .await?;
        Ok(())
    }
}

/// Starts adding (or replacing) the card `tenant` pays its subscription with: a Checkout
/// Session in `setup` mode on the platform account for the ISP's customer, which sends the
/// owner back to `return_url` with `card_session={id}`. Makes the ISP a customer first if the
/// background set-up has not yet.
pub async fn start_card_setup(
    db: &Database,
    stripe: &Stripe,
    tenant: TenantId,
    return_url: &str,
) -> Result<CardSetup, PaymentsError> {
    let customer = match customer_of(db, tenant).await? {
        Some(c) => c,
        None => {
            ensure_subscription(db, stripe, tenant).await?;
            customer_of(db, tenant)
                .await?
                .ok_or(PaymentsError::Unavailable)?
        }
    };
    let mut tx = db.platform_tx().await?;
    let currency: String = sqlx::query_scalar(
        "SELECT p.currency FROM tenants t JOIN saas_plans p ON p.code = t.saas_plan WHERE t.id = $1",
    )
    .bind(tenant.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    stripe
        .create_card_setup(tenant, &customer, &currency, return_url)
        .await
}

async fn customer_of(db: &Database, tenant: TenantId) -> Result<Option<String>, PaymentsError> {
    let mut tx = db.platform_tx().await?;
    let customer: Option<String> =
        sqlx::query_scalar("SELECT customer_id FROM saas_billing_customers WHERE tenant_id = $1")
            .bind(tenant.as_uuid())
            .fetch_optional(tx.conn())
            .await?;
    tx.commit().await?;
    Ok(customer)
}

const CARD_SQL: &str = "SELECT payment_method_id, card_brand AS brand, card_last4 AS last4, \
       card_exp_month AS exp_month, card_exp_year AS exp_year, card_set_at AS set_at \
     FROM saas_billing_customers WHERE tenant_id = $1 AND payment_method_id IS NOT NULL";

/// The card `tenant` pays with, if one was saved.
pub async fn saas_card(
    conn: &mut sqlx::PgConnection,
    tenant: TenantId,
) -> Result<Option<SaasCard>, PaymentsError> {
    Ok(sqlx::query_as::<_, SaasCard>(CARD_SQL)
        .bind(tenant.as_uuid())
        .fetch_optional(conn)
        .await?)
}

/// Applies the completed card setup `session_id`: the saved card becomes the ISP's
/// `invoice_settings.default_payment_method` at Stripe and is stored for display, with an
/// entry in the ISP's audit log. The ISP is the one whose customer the session belongs to;
/// with `expected` set (the console's return) a session of another ISP is [`PaymentsError::NotFound`].
///
/// Safe to run any number of times and from both paths (the owner's return and the
/// `checkout.session.completed` webhook): a session already applied changes nothing (and is
/// audited once), Stripe's update carries an Idempotency-Key naming the customer and card, and
/// a session older than the one whose card is stored is not applied (a late webhook never
/// brings back a replaced card). Returns the ISP and its card as it stands, `None` for a
/// session that is not a Kabinet card setup of a known ISP.
pub async fn complete_card_setup(
    db: &Database,
    stripe: &Stripe,
    session_id: &str,
    expected: Option<TenantId>,
    actor: &CardActor,
) -> Result<Option<(TenantId, SaasCard)>, PaymentsError> {
    if !session_id.starts_with("cs_") || session_id.len() > 255 {
        return Err(PaymentsError::NotFound);
    }
    let setup = match stripe.setup_result(session_id).await {
        Err(PaymentsError::Provider { code, .. })
            if code.as_deref() == Some("resource_missing") && expected.is_some() =>
        {
            return Err(PaymentsError::NotFound);
        }
        other => other?,
    };
    let Some(setup) = setup else {
        return match expected {
            Some(_) => Err(PaymentsError::NotFound),
            None => Ok(None),
        };
    };
    // The ISP comes from the customer Stripe has on the session, never from metadata.
    let mut tx = db.platform_tx().await?;
    let known: Option<(uuid::Uuid, Option<String>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT tenant_id, card_session_id, card_session_created FROM saas_billing_customers \
         WHERE customer_id = $1",
    )
    .bind(&setup.customer)
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    let Some((tenant, applied, applied_created)) = known else {
        tracing::warn!(session = session_id, customer = %setup.customer, "card setup of a customer no ISP has");
        return match expected {
            Some(_) => Err(PaymentsError::NotFound),
            None => Ok(None),
        };
    };
    let tenant = TenantId(tenant);
    if expected.is_some_and(|e| e != tenant) {
        return Err(PaymentsError::NotFound);
    }
    let already = applied.as_deref() == Some(session_id);
    let superseded = applied_created.is_some_and(|at| at > setup.created);
    if !already && !superseded {
        let (brand, last4, exp_month, exp_year) =
            stripe.card_details(&setup.payment_method).await?;
        let mut tx = db.tenant_tx(tenant).await?;
        let before = saas_card(tx.conn(), tenant).await?;
        // Applied at most once per session and never over a newer one, even when the return
        // and the webhook race, or two sessions complete at once: the second UPDATE waits for
        // the first one's row lock and re-reads the row it changed.
        let changed = sqlx::query(
            "UPDATE saas_billing_customers SET payment_method_id = $2, card_brand = $3, \
               card_last4 = $4, card_exp_month = $5, card_exp_year = $6, card_session_id = $7, \
               card_session_created = $8, card_set_at = now(), updated_at = now() \
             WHERE tenant_id = $1 AND card_session_id IS DISTINCT FROM $7 \
               AND (card_session_created IS NULL OR card_session_created <= $8)",
        )
        .bind(tenant.as_uuid())
        .bind(&setup.payment_method)
        .bind(&brand)
        .bind(&last4)
        .bind(i16::try_from(exp_month).unwrap_or(12))
        .bind(i16::try_from(exp_year).unwrap_or(2000))
        .bind(session_id)
        .bind(setup.created)
        .execute(tx.conn())
        .await?
        .rows_affected()
            == 1;
        if changed {
            // Stripe's default follows the row, under its lock: two sessions completing at
            // once reach Stripe in the order their rows were written, so the card charged is
            // always the card shown. A failure rolls the row back; the webhook retries.
            stripe
                .set_default_payment_method(&setup.customer, &setup.payment_method)
                .await?;
            let card = |c: &SaasCard| json!({ "brand": c.brand, "last4": c.last4, "exp_month": c.exp_month, "exp_year": c.exp_year });
            kabinet_access::audit::record(
                &mut tx,
                kabinet_access::audit::AuditEntry {
                    staff: actor.staff,
                    action: "saas_billing.card_set",
                    target: format!("saas_customer:{}", setup.customer),
                    details: json!({
                        "session": session_id,
                        "via": if actor.staff.is_some() { "console" } else { "webhook" },
                        "before": before.as_ref().map(card),
                        "after": {
                            "brand": brand, "last4": last4,
                            "exp_month": exp_month, "exp_year": exp_year,
                        },
                    }),
                },
                &actor.client,
            )
            .await?;
        }
        tx.commit().await?;
    }
    let mut tx = db.tenant_tx(tenant).await?;
    let card = saas_card(tx.conn(), tenant).await?;
    tx.commit().await?;
    Ok(card.map(|c| (tenant, c)))
}

/// What the operator's tenant list shows of each ISP's Kabinet billing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillingSummary {
    /// The dunning state (`current`, `past_due`, `read_only`, `suspended`).
    pub state: String,
    pub payment_failed_at: Option<DateTime<Utc>>,
    /// A customer with a metered subscription at Stripe.
    pub subscribed: bool,
    /// `(brand, last4)` of the card the subscription is charged to.
    pub card: Option<(String, String)>,
    pub last_invoice: Option<LastInvoice>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastInvoice {
    pub amount_due: i64,
    pub currency: String,
    pub status: String,
    pub payment_failed: bool,
}

/// The billing summary of every ISP in `tenants`, in one statement (the operator's list).
/// Reads the dunning standing (`saas_billing`) beside this module's tables: both are platform
/// tables about the ISP's account with the platform.
pub async fn billing_summaries(
    conn: &mut sqlx::PgConnection,
    tenants: &[TenantId],
) -> Result<HashMap<TenantId, BillingSummary>, PaymentsError> {
    let ids: Vec<uuid::Uuid> = tenants.iter().map(|t| t.as_uuid()).collect();
    let rows = sqlx::query(
        "SELECT t.id, COALESCE(b.state, 'current') AS state, b.payment_failed_at, \
           c.subscription_id IS NOT NULL AS subscribed, c.card_brand, c.card_last4, \
           i.amount_due, i.currency, i.status, i.payment_failed \
         FROM unnest($1::uuid[]) AS t(id) \
         LEFT JOIN saas_billing b ON b.tenant_id = t.id \
         LEFT JOIN saas_billing_customers c ON c.tenant_id = t.id \
         LEFT JOIN LATERAL (SELECT amount_due, currency, status, payment_failed FROM saas_invoices s \
           WHERE s.tenant_id = t.id ORDER BY s.created_at DESC, s.invoice_id LIMIT 1) i ON true",
    )
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let brand: Option<String> = row.try_get("card_brand")?;
            let last4: Option<String> = row.try_get("card_last4")?;
            let amount_due: Option<i64> = row.try_get("amount_due")?;
            let last_invoice = match amount_due {
                Some(amount_due) => Some(LastInvoice {
                    amount_due,
                    currency: row.try_get("currency")?,
                    status: row.try_get("status")?,
                    payment_failed: row.try_get("payment_failed")?,
                }),
                None => None,
            };
            Ok((
                TenantId(row.try_get("id")?),
                BillingSummary {
                    state: row.try_get("state")?,
                    payment_failed_at: row.try_get("payment_failed_at")?,
                    subscribed: row
                        .try_get::<Option<bool>, _>("subscribed")?
                        .unwrap_or(false),
                    card: brand.zip(last4),
                    last_invoice,
                },
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
