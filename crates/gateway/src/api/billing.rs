use kabinet_access::Permission;
use kabinet_access::audit::{AuditEntry, record};
use kabinet_access::directory::find_subscriber_by_account;
use kabinet_billing::{
    Correction as DomainCorrection, IncomingPayment, PaymentMethod as DomainMethod,
    account_summary, correct_balance, history, movement, receive_payment, reverse_transaction,
};
use kabinet_core::Money;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::dto::{AccountStatus, Money as WireMoney, Movement};
use super::text::Text;
use crate::AppState;
use crate::auth::StaffAuth;
use crate::problem::ApiError;

/// Billing in the staff console: a subscriber's ledger and manual payments.
pub struct BillingApi;

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    BankTransfer,
}

/// A payment taken by staff (cash at the office, a bank transfer).
#[derive(Debug, Object)]
pub struct ManualPayment {
    /// Amount in minor units of the ISP's currency.
    #[oai(validator(minimum(value = "1"), maximum(value = "100000000000")))]
    pub amount_minor: i64,
    pub method: PaymentMethod,
    /// The receipt or bank reference; one payment per reference, so a retry never pays twice.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub reference: Text,
}

#[derive(Debug, Object)]
pub struct PaymentRecorded {
    pub movement: Movement,
    /// False when this reference had been recorded already (nothing new happened).
    pub created: bool,
    /// The account's status after the payment (a payment lifts a debt block at once).
    pub account_status: AccountStatus,
    pub balance: WireMoney,
}

/// A subscriber's billing at a glance, with their movements (newest first, up to 500).
#[derive(Debug, Object)]
pub struct SubscriberLedger {
    pub account_number: String,
    pub full_name: String,
    pub status: AccountStatus,
    pub balance: WireMoney,
    pub credit_limit: WireMoney,
    #[oai(skip_serializing_if_is_none)]
    pub tariff_name: Option<String>,
    pub items: Vec<Movement>,
}

#[derive(ApiResponse)]
enum PaymentResponse {
    /// Recorded now.
    #[oai(status = 201)]
    Created(Json<PaymentRecorded>),
    /// Recorded before under the same reference; nothing changed.
    #[oai(status = 200)]
    Existing(Json<PaymentRecorded>),
}

/// A correction of a subscriber's balance by staff.
#[derive(Debug, Object)]
pub struct CorrectionRequest {
    /// Positive credits the subscriber, negative debits them (minor units, never 0).
    #[oai(validator(minimum(value = "-100000000000"), maximum(value = "100000000000")))]
    pub amount_minor: i64,
    /// Why, as the subscriber will read it in their history.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub reason: Text,
    /// Your reference (ticket number, memo); one correction per reference.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub reference: Text,
}

#[derive(Debug, Object)]
pub struct ReversalRequest {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub reason: Text,
}

/// A balance change made by staff and where the account stands after it.
#[derive(Debug, Object)]
pub struct BalanceChanged {
    #[oai(skip_serializing_if_is_none)]
    pub movement: Option<Movement>,
    /// False when this had been done already (nothing new happened).
    pub created: bool,
    pub account_status: AccountStatus,
    pub balance: WireMoney,
}

#[derive(ApiResponse)]
enum BalanceChangeResponse {
    #[oai(status = 201)]
    Created(Json<BalanceChanged>),
    /// Done before; nothing changed.
    #[oai(status = 200)]
    Existing(Json<BalanceChanged>),
}

#[OpenApi(prefix_path = "/console/subscribers", tag = "Tag::Console")]
impl BillingApi {
    /// A subscriber's balance movements, newest first.
    #[oai(
        path = "/:account_number/ledger",
        method = "get",
        operation_id = "listSubscriberMovements"
    )]
    async fn ledger(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
    ) -> Result<Json<SubscriberLedger>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::BillingRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let subscriber = find_subscriber_by_account(&mut tx, &account_number.0)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let summary = account_summary(&mut tx, subscriber.id).await?;
        let items = history(&mut tx, subscriber.id, 500).await?;
        tx.commit().await?;
        Ok(Json(SubscriberLedger {
            account_number: subscriber.account_number,
            full_name: subscriber.full_name,
            status: summary.status.into(),
            balance: summary.balance.into(),
            credit_limit: summary.credit_limit.into(),
            tariff_name: summary.tariff.map(|t| t.name),
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// Records a payment taken by staff; audited; lifts a debt block at once.
    #[oai(
        path = "/:account_number/payments",
        method = "post",
        operation_id = "recordPayment"
    )]
    async fn record_payment(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
        body: Json<ManualPayment>,
    ) -> Result<PaymentResponse, ApiError> {
        let staff = auth.0;
        staff.require(Permission::BillingWrite).await?;
        let tenant = &staff.tenant;
        let method = match body.method {
            PaymentMethod::Cash => DomainMethod::Cash,
            PaymentMethod::BankTransfer => DomainMethod::BankTransfer,
        };
        let reference = body.reference.trim().to_owned();
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        let subscriber = find_subscriber_by_account(&mut tx, &account_number.0)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let amount = Money::new(body.amount_minor, tenant.currency);
        let key = format!("manual:{}:{reference}", method.as_str());
        let payment = IncomingPayment {
            subscriber: subscriber.id,
            amount,
            method,
            reference: &reference,
            staff: Some(staff.id),
            idempotency_key: &key,
        };
        let posted = receive_payment(&mut tx, &payment, chrono::Utc::now()).await?;
        if posted.created {
            record(
                &mut tx,
                AuditEntry {
                    staff: Some(staff.id),
                    action: "payment.record",
                    target: format!("subscriber:{}", subscriber.id),
                    details: json!({
                        "transaction": posted.id,
                        "amount_minor": amount.minor,
                        "currency": amount.currency.code(),
                        "method": method.as_str(),
                        "reference": reference,
                    }),
                },
                &staff.client,
            )
            .await?;
        }
        let summary = account_summary(&mut tx, subscriber.id).await?;
        let movement = movement(&mut tx, subscriber.id, posted.id)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    poem::http::StatusCode::CONFLICT,
                    "idempotency_conflict",
                    "Reference already used",
                    Some("This reference was recorded for another subscriber.".into()),
                )
            })?;
        tx.commit().await?;
        let recorded = PaymentRecorded {
            movement: movement.into(),
            created: posted.created,
            account_status: summary.status.into(),
            balance: summary.balance.into(),
        };
        Ok(if posted.created {
            PaymentResponse::Created(Json(recorded))
        } else {
            PaymentResponse::Existing(Json(recorded))
        })
    }

    /// Corrects a subscriber's balance (credit or debit) with a reason; audited; the account's
    /// status follows at once.
    #[oai(
        path = "/:account_number/corrections",
        method = "post",
        operation_id = "correctBalance"
    )]
    async fn correct(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
        body: Json<CorrectionRequest>,
    ) -> Result<BalanceChangeResponse, ApiError> {
        let staff = auth.0;
        staff.require(Permission::BillingWrite).await?;
        let tenant = &staff.tenant;
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        let subscriber = find_subscriber_by_account(&mut tx, &account_number.0)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let amount = Money::new(body.amount_minor, tenant.currency);
        let posted = correct_balance(
            &mut tx,
            &DomainCorrection {
                subscriber: subscriber.id,
                amount,
                staff: staff.id,
                reason: &body.reason,
                reference: &body.reference,
            },
        )
        .await?;
        if posted.created {
            record(
                &mut tx,
                AuditEntry {
                    staff: Some(staff.id),
                    action: "balance.correct",
                    target: format!("subscriber:{}", subscriber.id),
                    details: json!({
                        "transaction": posted.id,
                        "amount_minor": amount.minor,
                        "currency": amount.currency.code(),
                        "reason": body.reason.trim(),
                        "reference": body.reference.trim(),
                    }),
                },
                &staff.client,
            )
            .await?;
        }
        let changed = balance_changed(&mut tx, subscriber.id, posted.id, posted.created).await?;
        tx.commit().await?;
        Ok(if posted.created {
            BalanceChangeResponse::Created(Json(changed))
        } else {
            BalanceChangeResponse::Existing(Json(changed))
        })
    }

    /// Reverses one movement in full: a card payment is refunded to the card through Stripe,
    /// anything else gets a reversing transaction. Audited; at most once per movement.
    #[oai(
        path = "/:account_number/movements/:transaction/reversal",
        method = "post",
        operation_id = "reverseMovement"
    )]
    async fn reverse(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
        transaction: Path<Uuid>,
        body: Json<ReversalRequest>,
    ) -> Result<BalanceChangeResponse, ApiError> {
        let staff = auth.0;
        staff.require(Permission::BillingWrite).await?;
        let tenant = &staff.tenant;
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        let subscriber = find_subscriber_by_account(&mut tx, &account_number.0)
            .await?
            .ok_or_else(ApiError::not_found)?;
        // The movement must be this subscriber's (a foreign id reads as missing).
        movement(&mut tx, subscriber.id, transaction.0)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let card = kabinet_payments::is_card_payment(&mut tx, transaction.0).await?;
        let (created, details, moved) = if card {
            tx.commit().await?;
            let refunded = kabinet_payments::refund_card_payment(
                &state.db,
                state.stripe.as_deref(),
                tenant.id,
                transaction.0,
                staff.id,
                chrono::Utc::now(),
            )
            .await?;
            tx = state.db.tenant_tx(tenant.id).await?;
            (
                refunded.minor > 0,
                json!({ "refunded_to_card_minor": refunded.minor, "currency": refunded.currency.code() }),
                None,
            )
        } else {
            let posted = reverse_transaction(
                &mut tx,
                subscriber.id,
                transaction.0,
                staff.id,
                &body.reason,
            )
            .await?;
            (
                posted.created,
                json!({ "reversal": posted.id }),
                Some(posted.id),
            )
        };
        if created {
            let mut details = details;
            details["transaction"] = json!(transaction.0);
            details["reason"] = json!(body.reason.trim());
            record(
                &mut tx,
                AuditEntry {
                    staff: Some(staff.id),
                    action: if card {
                        "payment.refund"
                    } else {
                        "movement.reverse"
                    },
                    target: format!("subscriber:{}", subscriber.id),
                    details,
                },
                &staff.client,
            )
            .await?;
        }
        let summary = account_summary(&mut tx, subscriber.id).await?;
        let movement = match moved {
            Some(id) => movement(&mut tx, subscriber.id, id).await?.map(Into::into),
            None => history(&mut tx, subscriber.id, 1)
                .await?
                .pop()
                .map(Into::into),
        };
        tx.commit().await?;
        let changed = BalanceChanged {
            movement,
            created,
            account_status: summary.status.into(),
            balance: summary.balance.into(),
        };
        Ok(if created {
            BalanceChangeResponse::Created(Json(changed))
        } else {
            BalanceChangeResponse::Existing(Json(changed))
        })
    }
}

async fn balance_changed(
    tx: &mut kabinet_db::TenantTx,
    subscriber: kabinet_core::SubscriberId,
    transaction: Uuid,
    created: bool,
) -> Result<BalanceChanged, ApiError> {
    let summary = account_summary(tx, subscriber).await?;
    let movement = movement(tx, subscriber, transaction).await?.map(Into::into);
    Ok(BalanceChanged {
        movement,
        created,
        account_status: summary.status.into(),
        balance: summary.balance.into(),
    })
}
