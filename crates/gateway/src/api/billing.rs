use kabinet_access::Permission;
use kabinet_access::audit::{AuditEntry, record};
use kabinet_access::directory::find_subscriber_by_account;
use kabinet_billing::{
    IncomingPayment, PaymentMethod as DomainMethod, account_summary, history, movement,
    receive_payment,
};
use kabinet_core::Money;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;

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
}
