//! Stripe's Connect webhook: verify, find the ISP by connected account, apply once.

use chrono::{DateTime, Utc};
use kabinet_db::{Database, TenantTx, sqlx};
use stripe_shared::{CheckoutSession, CheckoutSessionPaymentStatus, PaymentIntent};
use stripe_webhook::{Event, EventObject, Webhook, WebhookError};

use crate::connections::{Connection, set_charges_enabled, tenant_of_account};
use crate::error::{PaymentsError, WebhookRejection};
use crate::settle::{Find, Paid, Settled, close_unpaid, credit, remember_card};
use crate::stripe_api::{Stripe, metadata_payment};

/// What a delivery did. Every variant is acknowledged with 2xx: Stripe retries only failures,
/// and an event that is not ours will never become ours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Applied now; the text says what it did (`credited`, `expired` …).
    Applied(String),
    /// This event was applied before; nothing happened.
    Duplicate,
    /// Not for us (unknown account, unhandled type, unknown payment).
    Ignored(String),
    /// An invoice event of the platform's own account (SaaS billing), recorded; the caller hands
    /// its payment outcome to dunning.
    Saas(crate::saas_billing::SaasInvoiceEvent),
}

/// Verifies a delivery (signature over the raw body, 300 s tolerance against `now`) and applies
/// it inside the owning ISP's transaction, recording the event id in the same transaction.
pub async fn handle_webhook(
    db: &Database,
    stripe: &Stripe,
    payload: &str,
    signature: &str,
    now: DateTime<Utc>,
) -> Result<WebhookOutcome, PaymentsError> {
    if !signature.contains("t=") || !signature.contains("v1=") {
        return Err(WebhookRejection::BadHeader.into());
    }
    let event = Webhook::construct_event_with_timestamp(
        payload,
        signature,
        &stripe.webhook_secret,
        now.timestamp(),
    )
    .map_err(|e| match e {
        WebhookError::BadHeader(_) | WebhookError::BadKey => WebhookRejection::BadHeader,
        WebhookError::BadSignature => WebhookRejection::BadSignature,
        WebhookError::BadTimestamp(_) => WebhookRejection::Stale,
        WebhookError::BadParse(why) => WebhookRejection::BadPayload(why),
    })?;
    let event_id = event.id.to_string();
    let Some(account) = event.account.clone() else {
        // No connected account: the platform's own event (SaaS billing of the ISPs).
        return crate::saas_billing::apply_platform_event(db, stripe, &event, now).await;
    };
    // The tenant comes from the connected account Stripe signed for, never from metadata.
    let owner = match stripe.owners.get(account.as_str()).await {
        Some(conn) => Some(conn),
        None => {
            let mut platform = db.platform_tx().await?;
            let found = tenant_of_account(&mut platform, &account).await?;
            platform.commit().await?;
            if let Some(conn) = &found {
                stripe
                    .owners
                    .insert(account.to_string(), conn.clone())
                    .await;
            }
            found
        }
    };
    let Some(conn) = owner else {
        tracing::warn!(event = %event_id, %account, "Stripe event for an account no ISP has connected");
        return Ok(WebhookOutcome::Ignored("unknown account".into()));
    };

    let mut tx = db.tenant_tx(conn.tenant).await?;
    if seen(&mut tx, &event_id).await? {
        return Ok(WebhookOutcome::Duplicate);
    }
    let (outcome, keep_card) = apply(&mut tx, &conn, &event, now).await?;
    let created = DateTime::<Utc>::from_timestamp(event.created, 0).unwrap_or(now);
    let recorded: Option<String> = sqlx::query_scalar(
        "INSERT INTO stripe_events (tenant_id, event_id, type, created_at, received_at, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING event_id",
    )
    .bind(conn.tenant.as_uuid())
    .bind(&event_id)
    .bind(event.type_.as_str())
    .bind(created)
    .bind(now)
    .bind(outcome.as_str())
    .fetch_optional(tx.conn())
    .await?;
    if recorded.is_none() {
        // A concurrent delivery of the same event committed first: drop our work.
        return Ok(WebhookOutcome::Duplicate);
    }
    tx.commit().await?;

    if let Some((subscriber, customer)) = keep_card {
        // After the commit: a slow or failing Stripe call must not hold or undo the credit.
        match stripe.card_on_file(&conn.account_id, &customer).await {
            Ok(Some(card)) => {
                let mut tx = db.tenant_tx(conn.tenant).await?;
                remember_card(&mut tx, subscriber, &customer, &card).await?;
                tx.commit().await?;
            }
            Ok(None) => tracing::warn!(%customer, "Stripe customer has no card to keep"),
            Err(e) => tracing::warn!(%customer, error = %e, "could not read the saved card"),
        }
    }
    Ok(match outcome {
        o if o.starts_with("ignored") => WebhookOutcome::Ignored(o),
        o => WebhookOutcome::Applied(o),
    })
}

async fn seen(tx: &mut TenantTx, event_id: &str) -> Result<bool, PaymentsError> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM stripe_events WHERE tenant_id = $1 AND event_id = $2)",
    )
    .bind(tenant.as_uuid())
    .bind(event_id)
    .fetch_one(tx.conn())
    .await?)
}

type KeepCard = Option<(kabinet_core::SubscriberId, String)>;

async fn apply(
    tx: &mut TenantTx,
    conn: &Connection,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<(String, KeepCard), PaymentsError> {
    let account = conn.account_id.as_str();
    Ok(match &event.data.object {
        EventObject::CheckoutSessionCompleted(session)
        | EventObject::CheckoutSessionAsyncPaymentSucceeded(session) => {
            if session.payment_status == CheckoutSessionPaymentStatus::Unpaid {
                // Delayed methods: `async_payment_succeeded` follows.
                ("awaiting_payment".into(), None)
            } else {
                settle_session(tx, account, session, now).await?
            }
        }
        EventObject::CheckoutSessionExpired(session) => {
            let closed =
                close_unpaid(tx, Find::Session(session.id.as_str()), "expired", None, now).await?;
            (
                if closed {
                    "expired"
                } else {
                    "ignored: not pending"
                }
                .into(),
                None,
            )
        }
        EventObject::CheckoutSessionAsyncPaymentFailed(session) => {
            let closed = close_unpaid(
                tx,
                Find::Session(session.id.as_str()),
                "failed",
                Some("the payment did not go through"),
                now,
            )
            .await?;
            (
                if closed {
                    "failed"
                } else {
                    "ignored: not pending"
                }
                .into(),
                None,
            )
        }
        EventObject::PaymentIntentSucceeded(intent) => {
            settle_intent(tx, account, intent, now).await?
        }
        EventObject::PaymentIntentPaymentFailed(intent) => {
            let reason = intent
                .last_payment_error
                .as_ref()
                .and_then(|e| e.message.clone())
                .unwrap_or_else(|| "the card was declined".into());
            let find = match metadata_payment(Some(&intent.metadata)) {
                Some(id) => Find::Id(id),
                None => Find::Intent(intent.id.as_str()),
            };
            let closed = close_unpaid(tx, find, "failed", Some(&reason), now).await?;
            if closed {
                crate::autopay::pause_after_failure(tx, find, &reason).await?;
            }
            (
                if closed {
                    "failed"
                } else {
                    "ignored: not pending"
                }
                .into(),
                None,
            )
        }
        EventObject::ChargeRefunded(charge) => match &charge.payment_intent {
            Some(intent) => (
                crate::refunds::sync_refund(tx, intent.id().as_str(), charge.amount_refunded)
                    .await?,
                None,
            ),
            None => ("ignored: charge without a payment intent".into(), None),
        },
        EventObject::AccountUpdated(acct) => {
            set_charges_enabled(tx, account, acct.charges_enabled.unwrap_or(false)).await?;
            ("account_updated".into(), None)
        }
        _ => (format!("ignored: {}", event.type_.as_str()), None),
    })
}

async fn settle_session(
    tx: &mut TenantTx,
    account: &str,
    session: &CheckoutSession,
    now: DateTime<Utc>,
) -> Result<(String, KeepCard), PaymentsError> {
    let currency = session
        .currency
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or_default();
    let intent = session.payment_intent.as_ref().map(|p| p.id().to_string());
    let customer = session.customer.as_ref().map(|c| c.id().to_string());
    let paid = Paid {
        account,
        amount_minor: session.amount_total.unwrap_or(0),
        currency: &currency,
        payment_intent: intent.as_deref(),
        customer: customer.as_deref(),
    };
    let settled = credit(tx, Find::Session(session.id.as_str()), paid, now).await?;
    Ok(outcome(settled))
}

async fn settle_intent(
    tx: &mut TenantTx,
    account: &str,
    intent: &PaymentIntent,
    now: DateTime<Utc>,
) -> Result<(String, KeepCard), PaymentsError> {
    let currency = intent.currency.to_string();
    let customer = intent.customer.as_ref().map(|c| c.id().to_string());
    let paid = Paid {
        account,
        amount_minor: if intent.amount_received > 0 {
            intent.amount_received
        } else {
            intent.amount
        },
        currency: &currency,
        payment_intent: Some(intent.id.as_str()),
        customer: customer.as_deref(),
    };
    // Checkout's PaymentIntent may arrive before `checkout.session.completed`: our id in its
    // metadata finds the payment either way.
    let find = match metadata_payment(Some(&intent.metadata)) {
        Some(id) => Find::Id(id),
        None => Find::Intent(intent.id.as_str()),
    };
    Ok(outcome(credit(tx, find, paid, now).await?))
}

fn outcome(settled: Settled) -> (String, KeepCard) {
    match settled {
        Settled::Credited {
            subscriber,
            keep_card_of,
            ..
        } => ("credited".into(), keep_card_of.map(|c| (subscriber, c))),
        Settled::AlreadyCredited => ("already_credited".into(), None),
        Settled::Unknown => ("ignored: unknown payment".into(), None),
        Settled::Mismatch(why) => {
            tracing::error!(%why, "Stripe payment does not match ours; not credited");
            (format!("ignored: mismatch: {why}"), None)
        }
    }
}
