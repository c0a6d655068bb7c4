//! Reconciliation: compare what Stripe knows with what the ledger knows, repair what can be
//! repaired (a lost webhook) and report the rest.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use kabinet_core::TenantId;
use kabinet_db::{Database, sqlx};
use stripe_shared::{CheckoutSessionPaymentStatus, CheckoutSessionStatus, PaymentIntentStatus};
use uuid::Uuid;

use crate::connections::connection;
use crate::error::PaymentsError;
use crate::settle::{Find, Paid, Settled, close_unpaid, credit};
use crate::stripe_api::{Stripe, metadata_payment};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discrepancy {
    /// Paid at Stripe, still pending here (a webhook was lost): credited now.
    Repaired {
        payment: Uuid,
        stripe_object: String,
    },
    /// Expired at Stripe or never got there, pending here: closed now.
    Closed { payment: Uuid, status: String },
    /// Paid at Stripe, but no payment of ours matches it (or the figures disagree).
    UnknownHere {
        stripe_object: String,
        detail: String,
    },
    /// Credited here, but Stripe does not report it as paid.
    UnknownAtStripe { payment: Uuid, detail: String },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Checkout Sessions and PaymentIntents read from Stripe.
    pub stripe_objects: usize,
    pub items: Vec<Discrepancy>,
}

impl ReconcileReport {
    /// Discrepancies a person has to look at (the rest were repaired).
    pub fn unresolved(&self) -> usize {
        self.items
            .iter()
            .filter(|d| {
                matches!(
                    d,
                    Discrepancy::UnknownHere { .. } | Discrepancy::UnknownAtStripe { .. }
                )
            })
            .count()
    }
}

/// Reconciles one ISP's payments created since `since`.
pub async fn reconcile(
    db: &Database,
    stripe: &Stripe,
    tenant: TenantId,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<ReconcileReport, PaymentsError> {
    let mut report = ReconcileReport::default();
    let mut tx = db.tenant_tx(tenant).await?;
    let Some(conn) = connection(&mut tx).await? else {
        return Ok(report);
    };
    tx.commit().await?;
    let account = conn.account_id.as_str();
    let sessions = stripe
        .checkout_sessions_since(account, since.timestamp())
        .await?;
    let intents = stripe
        .payment_intents_since(account, since.timestamp())
        .await?;
    report.stripe_objects = sessions.len() + intents.len();
    // Our payments that Stripe reports as paid, by our id.
    let mut paid_at_stripe: HashSet<Uuid> = HashSet::new();

    for session in &sessions {
        let ours = metadata_payment(session.metadata.as_ref())
            .or_else(|| session.client_reference_id.as_deref()?.parse().ok());
        let id = session.id.as_str();
        let mut tx = db.tenant_tx(tenant).await?;
        match (session.status.as_ref(), &session.payment_status) {
            (Some(CheckoutSessionStatus::Complete), CheckoutSessionPaymentStatus::Paid)
            | (
                Some(CheckoutSessionStatus::Complete),
                CheckoutSessionPaymentStatus::NoPaymentRequired,
            ) => {
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
                // The session id is stored after Stripe answers; a crash in between leaves
                // only our id in the metadata.
                let find = match ours {
                    Some(payment) => Find::Id(payment),
                    None => Find::Session(id),
                };
                match credit(&mut tx, find, paid, now).await? {
                    Settled::Credited { payment, .. } => {
                        paid_at_stripe.insert(payment);
                        report.items.push(Discrepancy::Repaired {
                            payment,
                            stripe_object: id.to_owned(),
                        });
                    }
                    Settled::AlreadyCredited => {
                        paid_at_stripe.extend(ours);
                    }
                    Settled::Unknown => report.items.push(Discrepancy::UnknownHere {
                        stripe_object: id.to_owned(),
                        detail: "paid at Stripe; no payment here".into(),
                    }),
                    Settled::Mismatch(detail) => {
                        paid_at_stripe.extend(ours);
                        report.items.push(Discrepancy::UnknownHere {
                            stripe_object: id.to_owned(),
                            detail,
                        });
                    }
                }
            }
            (Some(CheckoutSessionStatus::Expired), _) => {
                let find = ours.map_or(Find::Session(id), Find::Id);
                if close_unpaid(&mut tx, find, "expired", None, now).await? {
                    report.items.push(Discrepancy::Closed {
                        payment: ours.unwrap_or_default(),
                        status: "expired".into(),
                    });
                }
            }
            _ => {}
        }
        tx.commit().await?;
    }

    for intent in &intents {
        let Some(payment) = metadata_payment(Some(&intent.metadata)) else {
            if intent.status == PaymentIntentStatus::Succeeded {
                report.items.push(Discrepancy::UnknownHere {
                    stripe_object: intent.id.to_string(),
                    detail: "succeeded at Stripe without a Kabinet payment id".into(),
                });
            }
            continue;
        };
        if intent.status != PaymentIntentStatus::Succeeded {
            continue;
        }
        let currency = intent.currency.to_string();
        let customer = intent.customer.as_ref().map(|c| c.id().to_string());
        let mut tx = db.tenant_tx(tenant).await?;
        let settled = credit(
            &mut tx,
            Find::Id(payment),
            Paid {
                account,
                amount_minor: intent.amount,
                currency: &currency,
                payment_intent: Some(intent.id.as_str()),
                customer: customer.as_deref(),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        match settled {
            Settled::Credited { .. } => {
                paid_at_stripe.insert(payment);
                report.items.push(Discrepancy::Repaired {
                    payment,
                    stripe_object: intent.id.to_string(),
                });
            }
            Settled::AlreadyCredited => {
                paid_at_stripe.insert(payment);
            }
            Settled::Unknown => report.items.push(Discrepancy::UnknownHere {
                stripe_object: intent.id.to_string(),
                detail: format!("names payment {payment}, which does not exist here"),
            }),
            Settled::Mismatch(detail) => report.items.push(Discrepancy::UnknownHere {
                stripe_object: intent.id.to_string(),
                detail,
            }),
        }
    }

    // The other direction: what we credited must be paid at Stripe; what never reached Stripe
    // (a crash before the call) is closed.
    let mut tx = db.tenant_tx(tenant).await?;
    let ours: Vec<(Uuid, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, status, checkout_session, payment_intent FROM online_payments \
         WHERE tenant_id = $1 AND created_at >= $2 AND status IN ('succeeded', 'pending')",
    )
    .bind(tenant.as_uuid())
    .bind(since)
    .fetch_all(tx.conn())
    .await?;
    for (payment, status, session, intent) in ours {
        if status == "succeeded" && !paid_at_stripe.contains(&payment) {
            report.items.push(Discrepancy::UnknownAtStripe {
                payment,
                detail: format!(
                    "credited here; Stripe does not report {} as paid",
                    intent.or(session).unwrap_or_else(|| "it".into())
                ),
            });
        }
    }
    let stale: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM online_payments WHERE tenant_id = $1 AND status = 'pending' \
           AND checkout_session IS NULL AND payment_intent IS NULL AND created_at < $2",
    )
    .bind(tenant.as_uuid())
    .bind(now - chrono::Duration::hours(1))
    .fetch_all(tx.conn())
    .await?;
    for payment in stale {
        if !paid_at_stripe.contains(&payment)
            && close_unpaid(
                &mut tx,
                Find::Id(payment),
                "failed",
                Some("never reached Stripe"),
                now,
            )
            .await?
        {
            report.items.push(Discrepancy::Closed {
                payment,
                status: "failed".into(),
            });
        }
    }
    tx.commit().await?;
    Ok(report)
}
