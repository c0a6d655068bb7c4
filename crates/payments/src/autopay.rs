//! Saved cards and auto-pay: when the balance falls below the subscriber's threshold, charge
//! the saved card off-session for the amount they chose, at most once per day.

use chrono::{DateTime, Utc};
use kabinet_core::{SubscriberId, TenantId};
use kabinet_db::{Database, TenantTx};
use uuid::Uuid;

use crate::connections::connection;
use crate::error::PaymentsError;
use crate::settle::{Find, Paid, Settled, close_unpaid, credit};
use crate::stripe_api::{IntentRequest, Stripe};
use crate::{MAX_TOP_UP_MINOR, MIN_TOP_UP_MINOR};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedCard {
    pub brand: String,
    pub last4: String,
    pub expires: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutopayView {
    pub card: Option<SavedCard>,
    pub enabled: bool,
    pub threshold: i64,
    pub amount: i64,
    /// Why auto-pay stopped (a declined card), until the subscriber acts.
    pub paused_reason: Option<String>,
}

/// The subscriber's rule: top up `amount` when the balance is below `threshold` (minor units).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutopayRule {
    pub enabled: bool,
    pub threshold: i64,
    pub amount: i64,
}

pub async fn autopay_view(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<AutopayView, PaymentsError> {
    let tenant = tx.tenant();
    #[derive(sqlx::FromRow)]
    struct Row {
        card_brand: String,
        card_last4: String,
        card_expires: String,
        enabled: bool,
        threshold_minor: i64,
        amount_minor: i64,
        paused_reason: Option<String>,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT card_brand, card_last4, card_expires, enabled, threshold_minor, amount_minor, paused_reason \
         FROM autopay_settings WHERE tenant_id = $1 AND subscriber_id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    Ok(match row {
        Some(r) => AutopayView {
            card: Some(SavedCard {
                brand: r.card_brand,
                last4: r.card_last4,
                expires: r.card_expires,
            }),
            enabled: r.enabled,
            threshold: r.threshold_minor,
            amount: r.amount_minor,
            paused_reason: r.paused_reason,
        },
        None => AutopayView {
            card: None,
            enabled: false,
            threshold: 0,
            amount: 0,
            paused_reason: None,
        },
    })
}

/// Sets the rule; needs a saved card. Saving the rule lifts a pause.
pub async fn set_autopay(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    rule: AutopayRule,
) -> Result<AutopayView, PaymentsError> {
    if rule.enabled
        && (!(MIN_TOP_UP_MINOR..=MAX_TOP_UP_MINOR).contains(&rule.amount)
            || rule.threshold.abs() > MAX_TOP_UP_MINOR)
    {
        return Err(PaymentsError::BadAutopayRule);
    }
    let tenant = tx.tenant();
    let updated = sqlx::query(
        "UPDATE autopay_settings SET enabled = $3, threshold_minor = $4, amount_minor = $5, paused_reason = NULL, updated_at = now() \
         WHERE tenant_id = $1 AND subscriber_id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(rule.enabled)
    .bind(rule.threshold)
    .bind(rule.amount)
    .execute(tx.conn())
    .await?;
    if updated.rows_affected() == 0 {
        return Err(PaymentsError::NoSavedCard);
    }
    autopay_view(tx, subscriber).await
}

/// Forgets the saved card here and detaches it at Stripe; auto-pay stops.
pub async fn forget_card(
    db: &Database,
    stripe: Option<&Stripe>,
    tenant: TenantId,
    subscriber: SubscriberId,
) -> Result<(), PaymentsError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let removed: Option<String> = sqlx::query_scalar(
        "DELETE FROM autopay_settings WHERE tenant_id = $1 AND subscriber_id = $2 RETURNING payment_method",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    let conn = connection(&mut tx).await?;
    tx.commit().await?;
    let Some(payment_method) = removed else {
        return Err(PaymentsError::NoSavedCard);
    };
    if let (Some(stripe), Some(conn)) = (stripe, conn) {
        // Best effort: the card is already unusable for us; Stripe keeping it is harmless.
        if let Err(e) = stripe.detach_card(&conn.account_id, &payment_method).await {
            tracing::warn!(error = %e, "could not detach the card at Stripe");
        }
    }
    Ok(())
}

/// After a declined auto-pay, stop trying until the subscriber changes something.
pub(crate) async fn pause_after_failure(
    tx: &mut TenantTx,
    find: Find<'_>,
    reason: &str,
) -> Result<(), PaymentsError> {
    let tenant = tx.tenant();
    let (id, intent) = match find {
        Find::Id(id) => (Some(id), None),
        Find::Intent(i) => (None, Some(i)),
        Find::Session(_) => return Ok(()),
    };
    sqlx::query(
        "UPDATE autopay_settings a SET paused_reason = $4, updated_at = now() FROM online_payments p \
         WHERE a.tenant_id = $1 AND p.tenant_id = $1 AND p.subscriber_id = a.subscriber_id \
           AND p.purpose = 'auto_pay' AND (p.id = $2 OR p.payment_intent = $3)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(intent)
    .bind(reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One tenant's auto-pay run: who is below their threshold is one query; each of them gets
/// one attempt per day (claimed by a unique key before Stripe is called, so reruns and other
/// nodes skip it); the charge uses the attempt's id as idempotency key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutopayReport {
    pub attempted: usize,
    pub succeeded: usize,
    pub failed: usize,
}

pub async fn run_autopay(
    db: &Database,
    stripe: &Stripe,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<AutopayReport, PaymentsError> {
    let mut report = AutopayReport::default();
    let mut tx = db.tenant_tx(tenant).await?;
    let Some(conn) = connection(&mut tx).await?.filter(|c| c.takes_cards()) else {
        return Ok(report);
    };
    let day = now.date_naive();
    // Claims today's attempt for every subscriber below threshold, in one statement.
    let claimed: Vec<(Uuid, Uuid, i64, String, String, String)> = sqlx::query_as(
        "WITH due AS ( \
           SELECT s.subscriber_id, s.amount_minor, a.currency, s.stripe_customer, s.payment_method \
             FROM autopay_settings s JOIN accounts a ON a.tenant_id = s.tenant_id AND a.subscriber_id = s.subscriber_id \
            WHERE s.tenant_id = $1 AND s.enabled AND s.paused_reason IS NULL AND s.amount_minor > 0 \
              AND a.balance_minor < s.threshold_minor), \
         claimed AS ( \
           INSERT INTO online_payments (tenant_id, id, subscriber_id, purpose, amount_minor, currency, stripe_account, attempt_key, created_at) \
           SELECT $1, gen_random_uuid(), subscriber_id, 'auto_pay', amount_minor, currency, $2, \
                  'autopay:' || subscriber_id || ':' || $3::text, $4 FROM due \
           ON CONFLICT (tenant_id, attempt_key) DO NOTHING \
           RETURNING id, subscriber_id, amount_minor, currency::text AS currency) \
         SELECT c.id, c.subscriber_id, c.amount_minor, c.currency, d.stripe_customer, d.payment_method \
           FROM claimed c JOIN due d USING (subscriber_id)",
    )
    .bind(tenant.as_uuid())
    .bind(&conn.account_id)
    .bind(day.to_string())
    .bind(now)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;

    for (payment, subscriber, amount_minor, currency, customer, payment_method) in claimed {
        report.attempted += 1;
        let charged = stripe
            .charge_saved_card(IntentRequest {
                account: &conn.account_id,
                payment,
                amount_minor,
                currency: &currency,
                customer: &customer,
                payment_method: &payment_method,
                application_fee_minor: conn.application_fee(amount_minor),
                description: "Auto-pay top-up",
            })
            .await;
        let mut tx = db.tenant_tx(tenant).await?;
        match charged {
            Ok(intent) if intent.status == stripe_shared::PaymentIntentStatus::Succeeded => {
                let code = intent.currency.to_string();
                let settled = credit(
                    &mut tx,
                    Find::Id(payment),
                    Paid {
                        account: &conn.account_id,
                        amount_minor: intent.amount,
                        currency: &code,
                        payment_intent: Some(intent.id.as_str()),
                        customer: Some(&customer),
                    },
                    now,
                )
                .await?;
                if matches!(settled, Settled::Credited { .. } | Settled::AlreadyCredited) {
                    report.succeeded += 1;
                }
            }
            Ok(intent) => {
                // Requires action (3-D Secure) or processing: the webhook settles it later.
                sqlx::query(
                    "UPDATE online_payments SET payment_intent = $3 WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.as_uuid())
                .bind(payment)
                .bind(intent.id.as_str())
                .execute(tx.conn())
                .await?;
            }
            Err(e) => {
                let reason = e.to_string();
                close_unpaid(&mut tx, Find::Id(payment), "failed", Some(&reason), now).await?;
                pause_after_failure(&mut tx, Find::Id(payment), &reason).await?;
                report.failed += 1;
                tracing::info!(%subscriber, error = %reason, "auto-pay declined; paused");
            }
        }
        tx.commit().await?;
    }
    Ok(report)
}
