use chrono::{DateTime, Utc};
use kabinet_billing::{
    Promise, Suspension, billing_settings, current_suspension, open_promise, resume, suspend,
    take_promised_payment,
};
use kabinet_core::Money as DomainMoney;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::dto::Money;
use crate::AppState;
use crate::auth::SubscriberAuth;
use crate::problem::ApiError;

/// The subscriber's own account choices: promised payments and voluntary suspension.
pub struct AccountApi;

#[derive(Debug, Object)]
pub struct PromisedPayment {
    pub id: Uuid,
    pub amount: Money,
    pub granted_at: DateTime<Utc>,
    /// Settled by the next payment, or taken back at this time.
    pub due_at: DateTime<Utc>,
}

impl From<Promise> for PromisedPayment {
    fn from(p: Promise) -> Self {
        Self {
            id: p.id,
            amount: p.amount.into(),
            granted_at: p.granted_at,
            due_at: p.due_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct SuspensionInfo {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    /// Service and charges resume by themselves at this time.
    pub ends_at: DateTime<Utc>,
}

impl From<Suspension> for SuspensionInfo {
    fn from(s: Suspension) -> Self {
        Self {
            id: s.id,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
        }
    }
}

/// What the subscriber may do with their account, and what is running now.
#[derive(Debug, Object)]
pub struct AccountOptions {
    /// The largest promised payment; absent when the ISP does not offer them.
    #[oai(skip_serializing_if_is_none)]
    pub promised_payment_max: Option<Money>,
    pub promised_payment_days: i32,
    pub promised_payments_per_month: i32,
    #[oai(skip_serializing_if_is_none)]
    pub open_promised_payment: Option<PromisedPayment>,
    pub suspension_min_days: i32,
    pub suspension_max_days: i32,
    pub suspension_fee: Money,
    #[oai(skip_serializing_if_is_none)]
    pub suspension: Option<SuspensionInfo>,
}

#[derive(Debug, Object)]
pub struct PromiseRequest {
    /// Amount in minor units of the ISP's currency.
    #[oai(validator(minimum(value = "1"), maximum(value = "100000000")))]
    pub amount_minor: i64,
}

#[derive(Debug, Object)]
pub struct SuspensionRequest {
    #[oai(validator(minimum(value = "1"), maximum(value = "365")))]
    pub days: i32,
}

#[derive(ApiResponse)]
enum PromiseTaken {
    #[oai(status = 201)]
    Created(Json<PromisedPayment>),
}

#[derive(ApiResponse)]
enum Suspended {
    #[oai(status = 201)]
    Created(Json<SuspensionInfo>),
}

#[derive(ApiResponse)]
enum Resumed {
    /// Service resumed.
    #[oai(status = 204)]
    Done,
}

#[OpenApi(prefix_path = "/me", tag = "Tag::Portal")]
impl AccountApi {
    /// The ISP's rules for promised payments and suspension, and what is running now.
    #[oai(
        path = "/account-options",
        method = "get",
        operation_id = "getAccountOptions"
    )]
    async fn options(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<AccountOptions>, ApiError> {
        let me = auth.0;
        let currency = me.tenant.currency;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let rules = billing_settings(&mut tx).await?;
        let promise = open_promise(&mut tx, me.id).await?;
        let suspension = current_suspension(&mut tx, me.id).await?;
        tx.commit().await?;
        let offered = rules.promised_payment_max_minor > 0 && rules.promised_payments_per_month > 0;
        Ok(Json(AccountOptions {
            promised_payment_max: offered.then(|| rules.promised_payment_max(currency).into()),
            promised_payment_days: rules.promised_payment_days,
            promised_payments_per_month: rules.promised_payments_per_month,
            open_promised_payment: promise.map(Into::into),
            suspension_min_days: rules.suspension_min_days,
            suspension_max_days: rules.suspension_max_days,
            suspension_fee: DomainMoney::new(rules.suspension_fee_minor, currency).into(),
            suspension: suspension.map(Into::into),
        }))
    }

    /// Takes a promised payment: credit now, settled by the next payment or when it falls due.
    #[oai(
        path = "/promised-payment",
        method = "post",
        operation_id = "takePromisedPayment"
    )]
    async fn promise(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<PromiseRequest>,
    ) -> Result<PromiseTaken, ApiError> {
        let me = auth.0;
        let amount = DomainMoney::new(body.amount_minor, me.tenant.currency);
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let promise = take_promised_payment(&mut tx, me.id, amount, Utc::now()).await?;
        tx.commit().await?;
        Ok(PromiseTaken::Created(Json(promise.into())))
    }

    /// Pauses service and charges for a number of days.
    #[oai(path = "/suspension", method = "post", operation_id = "suspendService")]
    async fn suspend(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<SuspensionRequest>,
    ) -> Result<Suspended, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let suspension = suspend(&mut tx, me.id, body.days, Utc::now()).await?;
        tx.commit().await?;
        Ok(Suspended::Created(Json(suspension.into())))
    }

    /// Ends the suspension early: service and charges resume now.
    #[oai(
        path = "/suspension",
        method = "delete",
        operation_id = "resumeService"
    )]
    async fn resume(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Resumed, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        resume(&mut tx, Some(me.id), Utc::now()).await?;
        tx.commit().await?;
        Ok(Resumed::Done)
    }
}
