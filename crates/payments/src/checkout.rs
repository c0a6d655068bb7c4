//! A subscriber's top-up through Stripe Checkout.

use chrono::{DateTime, Utc};
use kabinet_billing::account_summary;
use kabinet_core::{Money, SubscriberId, TenantId};
use kabinet_db::{Database, sqlx};
use uuid::Uuid;

use crate::connections::connection;
use crate::error::PaymentsError;
use crate::settle::{Find, close_unpaid};
use crate::stripe_api::{CheckoutRequest, Stripe};
use crate::{MAX_TOP_UP_MINOR, MIN_TOP_UP_MINOR};

/// A top-up the subscriber asked for.
#[derive(Clone, Debug)]
pub struct TopUp<'a> {
    pub subscriber: SubscriberId,
    pub amount: Money,
    /// Keep the card at Stripe for the next payment and auto-pay.
    pub save_card: bool,
    /// The portal's origin (`https://demo.kabinet.example`): Checkout returns there.
    pub origin: &'a str,
    /// What the subscriber sees on Stripe's page ("Top-up of account 100001").
    pub description: &'a str,
    pub email: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopUpStarted {
    pub payment: Uuid,
    /// Stripe's hosted payment page.
    pub checkout_url: String,
}

/// Starts a top-up: the payment is recorded first (so nothing Stripe does can be unknown to
/// us), then Checkout is asked for a session under the payment's id as idempotency key.
pub async fn start_top_up(
    db: &Database,
    stripe: Option<&Stripe>,
    tenant: TenantId,
    top_up: &TopUp<'_>,
    now: DateTime<Utc>,
) -> Result<TopUpStarted, PaymentsError> {
    let stripe = stripe.ok_or(PaymentsError::Unavailable)?;
    let amount = top_up.amount;
    if !(MIN_TOP_UP_MINOR..=MAX_TOP_UP_MINOR).contains(&amount.minor) {
        return Err(PaymentsError::AmountOutOfRange {
            min: MIN_TOP_UP_MINOR,
            max: MAX_TOP_UP_MINOR,
        });
    }
    let payment = Uuid::now_v7();
    let mut tx = db.tenant_tx(tenant).await?;
    let conn = connection(&mut tx)
        .await?
        .filter(|c| c.takes_cards())
        .ok_or(PaymentsError::Unavailable)?;
    let summary = account_summary(&mut tx, top_up.subscriber).await?;
    if summary.balance.currency != amount.currency {
        return Err(kabinet_billing::BillingError::CurrencyMismatch {
            given: amount.currency,
            account: summary.balance.currency,
        }
        .into());
    }
    let customer: Option<String> = sqlx::query_scalar(
        "SELECT stripe_customer FROM autopay_settings WHERE tenant_id = $1 AND subscriber_id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(top_up.subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO online_payments (tenant_id, id, subscriber_id, purpose, amount_minor, currency, stripe_account, save_card, created_at) \
         VALUES ($1, $2, $3, 'top_up', $4, $5, $6, $7, $8)",
    )
    .bind(tenant.as_uuid())
    .bind(payment)
    .bind(top_up.subscriber.as_uuid())
    .bind(amount.minor)
    .bind(amount.currency.code())
    .bind(&conn.account_id)
    .bind(top_up.save_card)
    .bind(now)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;

    let back = format!(
        "{}/payments?payment={payment}",
        top_up.origin.trim_end_matches('/')
    );
    let session = stripe
        .create_checkout(CheckoutRequest {
            account: &conn.account_id,
            payment,
            amount_minor: amount.minor,
            currency: amount.currency.code(),
            product_name: top_up.description,
            application_fee_minor: conn.application_fee(amount.minor),
            success_url: back.clone(),
            cancel_url: format!("{back}&cancelled=1"),
            save_card: top_up.save_card,
            customer: customer.as_deref(),
            customer_email: top_up.email,
            // Stripe's shortest allowed lifetime; an abandoned page stops holding the payment.
            expires_at: (now + chrono::Duration::minutes(30)).timestamp() + 60,
        })
        .await;
    let mut tx = db.tenant_tx(tenant).await?;
    match session {
        Ok(session) => {
            let url = session.url.clone().ok_or_else(|| PaymentsError::Provider {
                code: None,
                message: "Checkout Session without a URL".into(),
            })?;
            sqlx::query(
                "UPDATE online_payments SET checkout_session = $3 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.as_uuid())
            .bind(payment)
            .bind(session.id.as_str())
            .execute(tx.conn())
            .await?;
            tx.commit().await?;
            Ok(TopUpStarted {
                payment,
                checkout_url: url,
            })
        }
        Err(e) => {
            close_unpaid(
                &mut tx,
                Find::Id(payment),
                "failed",
                Some(&e.to_string()),
                now,
            )
            .await?;
            tx.commit().await?;
            Err(e)
        }
    }
}

/// The subscriber came back from Checkout with "cancel": the session is closed at Stripe so it
/// cannot be paid later, and the payment ends as expired. A session that was paid after all
/// (another tab) is left for its webhook; the answer is the payment as it stands.
pub async fn cancel_top_up(
    db: &Database,
    stripe: Option<&Stripe>,
    tenant: TenantId,
    subscriber: SubscriberId,
    payment: Uuid,
    now: DateTime<Utc>,
) -> Result<crate::OnlinePayment, PaymentsError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let current = crate::online_payment(&mut tx, subscriber, payment).await?;
    let target: Option<(String, String)> = sqlx::query_as(
        "SELECT stripe_account, checkout_session FROM online_payments \
         WHERE tenant_id = $1 AND id = $2 AND status = 'pending' AND checkout_session IS NOT NULL",
    )
    .bind(tenant.as_uuid())
    .bind(payment)
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    let (Some((account, session)), Some(stripe)) = (target, stripe) else {
        return Ok(current);
    };
    let closed = stripe.expire_checkout(&account, &session).await;
    let mut tx = db.tenant_tx(tenant).await?;
    match closed {
        Ok(_) => {
            close_unpaid(&mut tx, Find::Session(&session), "expired", None, now).await?;
        }
        // Not open any more: paid or expired meanwhile; its webhook settles it.
        Err(e) => tracing::info!(%payment, error = %e, "Checkout Session not expired"),
    }
    let after = crate::online_payment(&mut tx, subscriber, payment).await?;
    tx.commit().await?;
    Ok(after)
}
