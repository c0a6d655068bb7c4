//! Refunds of card payments: asked for by staff in the console, or made in the ISP's Stripe
//! dashboard (`charge.refunded`). Both land as one refund movement per cumulative refunded
//! amount, keyed `refund:<payment>:<total refunded>`, under the payment's row lock: the console
//! call and the webhook it causes meet at the same key and refund the ledger once.

use chrono::{DateTime, Utc};
use kabinet_billing::{PaymentMethod, record_refund};
use kabinet_core::{Money, StaffId, SubscriberId, TenantId};
use kabinet_db::{Database, TenantTx, sqlx};
use uuid::Uuid;

use crate::connections::connection;
use crate::error::{PaymentsError, stored_currency};
use crate::stripe_api::Stripe;

#[derive(sqlx::FromRow)]
struct Refundable {
    id: Uuid,
    subscriber_id: Uuid,
    amount_minor: i64,
    refunded_minor: i64,
    currency: String,
    payment_intent: Option<String>,
}

async fn lock_by(
    tx: &mut TenantTx,
    transaction: Option<Uuid>,
    intent: Option<&str>,
) -> Result<Option<Refundable>, PaymentsError> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as::<_, Refundable>(
        "SELECT id, subscriber_id, amount_minor, refunded_minor, currency::text AS currency, payment_intent \
         FROM online_payments WHERE tenant_id = $1 AND status = 'succeeded' \
           AND (transaction_id = $2 OR payment_intent = $3) LIMIT 1 FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(transaction)
    .bind(intent)
    .fetch_optional(tx.conn())
    .await?)
}

/// Brings the ledger up to `refunded_total` (Stripe's cumulative refunded amount) for one
/// payment; returns the amount newly refunded (0 when the ledger already shows it).
async fn apply_refund_total(
    tx: &mut TenantTx,
    payment: &Refundable,
    refunded_total: i64,
    staff: Option<StaffId>,
) -> Result<i64, PaymentsError> {
    let total = refunded_total.min(payment.amount_minor);
    let delta = total - payment.refunded_minor;
    if delta <= 0 {
        return Ok(0);
    }
    let currency = stored_currency(&payment.currency)?;
    let reference = payment
        .payment_intent
        .clone()
        .unwrap_or_else(|| payment.id.to_string());
    record_refund(
        tx,
        SubscriberId(payment.subscriber_id),
        Money::new(delta, currency),
        PaymentMethod::Card,
        &reference,
        staff,
        &format!("refund:{}:{total}", payment.id),
    )
    .await?;
    sqlx::query("UPDATE online_payments SET refunded_minor = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tx.tenant().as_uuid())
        .bind(payment.id)
        .bind(total)
        .execute(tx.conn())
        .await?;
    Ok(delta)
}

/// Whether a ledger transaction is a card payment that can be refunded through Stripe.
pub async fn is_card_payment(tx: &mut TenantTx, transaction: Uuid) -> Result<bool, PaymentsError> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM online_payments WHERE tenant_id = $1 AND transaction_id = $2)",
    )
    .bind(tenant.as_uuid())
    .bind(transaction)
    .fetch_one(tx.conn())
    .await?)
}

/// Refunds what is left of a card payment (its ledger transaction) to the card: Stripe first,
/// then the ledger. A retry after a failure in between refunds Stripe once (same idempotency
/// key) and the ledger once (same ledger key).
pub async fn refund_card_payment(
    db: &Database,
    stripe: Option<&Stripe>,
    tenant: TenantId,
    transaction: Uuid,
    staff: StaffId,
    _now: DateTime<Utc>,
) -> Result<Money, PaymentsError> {
    let stripe = stripe.ok_or(PaymentsError::Unavailable)?;
    let mut tx = db.tenant_tx(tenant).await?;
    let conn = connection(&mut tx)
        .await?
        .ok_or(PaymentsError::Unavailable)?;
    let payment = lock_by(&mut tx, Some(transaction), None)
        .await?
        .ok_or(PaymentsError::NotFound)?;
    let remaining = payment.amount_minor - payment.refunded_minor;
    let intent = payment
        .payment_intent
        .clone()
        .ok_or(PaymentsError::NotFound)?;
    if remaining <= 0 {
        return Err(PaymentsError::AlreadyRefunded);
    }
    // The row lock is held across the Stripe call on purpose: a concurrent refund of the same
    // payment waits here instead of asking Stripe for a second one.
    stripe
        .refund(
            &conn.account_id,
            &intent,
            remaining,
            &format!("kabinet-refund-{}-{}", payment.id, payment.amount_minor),
        )
        .await?;
    let refunded = apply_refund_total(&mut tx, &payment, payment.amount_minor, Some(staff)).await?;
    tx.commit().await?;
    let currency = stored_currency(&payment.currency)?;
    Ok(Money::new(refunded, currency))
}

/// `charge.refunded`: a refund made at Stripe (or the echo of ours) reaches the ledger once.
pub(crate) async fn sync_refund(
    tx: &mut TenantTx,
    payment_intent: &str,
    refunded_total: i64,
) -> Result<String, PaymentsError> {
    let Some(payment) = lock_by(tx, None, Some(payment_intent)).await? else {
        return Ok("ignored: unknown payment".into());
    };
    let delta = apply_refund_total(tx, &payment, refunded_total, None).await?;
    Ok(if delta > 0 {
        "refunded"
    } else {
        "already_refunded"
    }
    .into())
}
