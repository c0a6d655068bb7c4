//! Applying what Stripe reports to our payments and the ledger. Every path that learns of a
//! payment (webhook, auto-pay run, reconciliation) ends here, under a row lock on the payment,
//! so concurrent deliveries serialise and the ledger key `online:<payment id>` credits once.

use chrono::{DateTime, Utc};
use kabinet_billing::{IncomingPayment, PaymentMethod, receive_payment};
use kabinet_core::{Money, SubscriberId};
use kabinet_db::TenantTx;
use uuid::Uuid;

use crate::error::{PaymentsError, stored_currency};
use crate::stripe_api::CardOnFile;

/// How Stripe names the payment.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Find<'a> {
    Session(&'a str),
    Intent(&'a str),
    Id(Uuid),
}

/// What Stripe says was paid, and where.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Paid<'a> {
    pub account: &'a str,
    pub amount_minor: i64,
    /// Stripe's lowercase ISO code.
    pub currency: &'a str,
    pub payment_intent: Option<&'a str>,
    pub customer: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Settled {
    Credited {
        payment: Uuid,
        subscriber: SubscriberId,
        /// Set when the subscriber asked to keep the card: its Stripe customer.
        keep_card_of: Option<String>,
    },
    AlreadyCredited,
    /// No payment of this tenant matches: not ours (or another ISP's), never credited.
    Unknown,
    /// Ours, but Stripe's figures disagree with what we asked for; left for a human.
    Mismatch(String),
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    subscriber_id: Uuid,
    amount_minor: i64,
    currency: String,
    status: String,
    stripe_account: String,
    checkout_session: Option<String>,
    save_card: bool,
}

async fn lock(tx: &mut TenantTx, find: Find<'_>) -> Result<Option<Row>, PaymentsError> {
    let tenant = tx.tenant();
    let (session, intent, id) = match find {
        Find::Session(s) => (Some(s), None, None),
        Find::Intent(i) => (None, Some(i), None),
        Find::Id(id) => (None, None, Some(id)),
    };
    Ok(sqlx::query_as::<_, Row>(
        "SELECT id, subscriber_id, amount_minor, currency::text AS currency, status, stripe_account, checkout_session, save_card \
         FROM online_payments WHERE tenant_id = $1 \
           AND (checkout_session = $2 OR payment_intent = $3 OR id = $4) \
         LIMIT 1 FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(session)
    .bind(intent)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Credits the subscriber for a payment Stripe reports as paid, once.
pub(crate) async fn credit(
    tx: &mut TenantTx,
    find: Find<'_>,
    paid: Paid<'_>,
    now: DateTime<Utc>,
) -> Result<Settled, PaymentsError> {
    let Some(row) = lock(tx, find).await? else {
        return Ok(Settled::Unknown);
    };
    if row.stripe_account != paid.account {
        return Ok(Settled::Mismatch(format!(
            "payment {} belongs to {}, Stripe reports it on {}",
            row.id, row.stripe_account, paid.account
        )));
    }
    if row.amount_minor != paid.amount_minor
        || !row.currency.trim().eq_ignore_ascii_case(paid.currency)
    {
        return Ok(Settled::Mismatch(format!(
            "payment {} is {} {}, Stripe reports {} {}",
            row.id, row.amount_minor, row.currency, paid.amount_minor, paid.currency
        )));
    }
    if row.status == "succeeded" {
        return Ok(Settled::AlreadyCredited);
    }
    let currency = stored_currency(&row.currency)?;
    let subscriber = SubscriberId(row.subscriber_id);
    let reference = paid
        .payment_intent
        .map(str::to_owned)
        .or(row.checkout_session.clone())
        .unwrap_or_else(|| row.id.to_string());
    let key = format!("online:{}", row.id);
    let posted = receive_payment(
        tx,
        &IncomingPayment {
            subscriber,
            amount: Money::new(row.amount_minor, currency),
            method: PaymentMethod::Card,
            reference: &reference,
            staff: None,
            idempotency_key: &key,
        },
        now,
    )
    .await?;
    sqlx::query(
        "UPDATE online_payments SET status = 'succeeded', transaction_id = $3, failure = NULL, settled_at = $4, \
           payment_intent = COALESCE(payment_intent, $5) \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(row.id)
    .bind(posted.id)
    .bind(now)
    .bind(paid.payment_intent)
    .execute(tx.conn())
    .await?;
    Ok(Settled::Credited {
        payment: row.id,
        subscriber,
        keep_card_of: if row.save_card {
            paid.customer.map(str::to_owned)
        } else {
            None
        },
    })
}

/// A pending payment ends without money: the session expired or the card was declined.
/// A payment that already succeeded stays succeeded (events may arrive out of order).
pub(crate) async fn close_unpaid(
    tx: &mut TenantTx,
    find: Find<'_>,
    status: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, PaymentsError> {
    let Some(row) = lock(tx, find).await? else {
        return Ok(false);
    };
    if row.status != "pending" {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE online_payments SET status = $3, failure = $4, settled_at = $5 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(row.id)
    .bind(status)
    .bind(reason)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(true)
}

/// Keeps the subscriber's card for the next payment and for auto-pay (the rule itself is
/// untouched; a new card lifts a pause caused by the old one).
pub(crate) async fn remember_card(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    customer: &str,
    card: &CardOnFile,
) -> Result<(), PaymentsError> {
    sqlx::query(
        "INSERT INTO autopay_settings (tenant_id, subscriber_id, stripe_customer, payment_method, card_brand, card_last4, card_expires) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant_id, subscriber_id) DO UPDATE SET stripe_customer = EXCLUDED.stripe_customer, \
           payment_method = EXCLUDED.payment_method, card_brand = EXCLUDED.card_brand, card_last4 = EXCLUDED.card_last4, \
           card_expires = EXCLUDED.card_expires, paused_reason = NULL, updated_at = now()",
    )
    .bind(tx.tenant().as_uuid())
    .bind(subscriber.as_uuid())
    .bind(customer)
    .bind(&card.payment_method)
    .bind(&card.brand)
    .bind(&card.last4)
    .bind(&card.expires)
    .execute(tx.conn())
    .await?;
    Ok(())
}
