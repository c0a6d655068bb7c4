use chrono::{DateTime, Utc};
use kabinet_billing::{
    Promise, Suspension, TariffChangeRule, account_summary, billing_settings, change_tariff,
    current_suspension, list_tariffs, open_promise, pending_change, resume, suspend,
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

#[derive(Debug, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum ChangeRule {
    /// At once; this month's charge is pro-rated between the two tariffs.
    ImmediateProrated,
    /// From the first day of next month.
    NextPeriod,
}

impl From<TariffChangeRule> for ChangeRule {
    fn from(r: TariffChangeRule) -> Self {
        match r {
            TariffChangeRule::ImmediateProrated => Self::ImmediateProrated,
            TariffChangeRule::NextPeriod => Self::NextPeriod,
        }
    }
}

#[derive(Debug, Object)]
pub struct TariffOffer {
    pub code: String,
    pub name: String,
    pub monthly_price: Money,
    pub speed_mbps: i32,
}

#[derive(Debug, Object)]
pub struct PendingTariff {
    pub code: String,
    pub effective_at: DateTime<Utc>,
}

/// The tariffs on offer, the current one and the ISP's rule for changing.
#[derive(Debug, Object)]
pub struct TariffCatalogue {
    pub rule: ChangeRule,
    #[oai(skip_serializing_if_is_none)]
    pub current_code: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub pending: Option<PendingTariff>,
    pub items: Vec<TariffOffer>,
}

#[derive(Debug, Object)]
pub struct TariffChangeRequest {
    #[oai(validator(min_length = 1, max_length = 64))]
    pub code: super::text::Text,
}

#[derive(Debug, Object)]
pub struct TariffChangeResult {
    pub rule: ChangeRule,
    pub effective_at: DateTime<Utc>,
    /// Returned for the unused days of the old tariff (immediate changes).
    pub credited: Money,
    /// Charged for the rest of the month on the new tariff (immediate changes).
    pub charged: Money,
}

/// An add-on service and whether the subscriber has it.
#[derive(Debug, Object)]
pub struct Addon {
    pub code: String,
    pub name: String,
    pub description: String,
    pub monthly_price: Money,
    #[oai(skip_serializing_if_is_none)]
    pub connected_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
pub struct AddonList {
    pub items: Vec<Addon>,
}

#[derive(Debug, Object)]
pub struct AddonChange {
    /// Charged now for the rest of the month (connect) or returned for unused days (disconnect).
    pub amount: Money,
}

#[derive(ApiResponse)]
enum AddonConnected {
    #[oai(status = 201)]
    Created(Json<AddonChange>),
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

    /// The tariffs on offer and the current one.
    #[oai(path = "/tariffs", method = "get", operation_id = "getTariffCatalogue")]
    async fn tariffs(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<TariffCatalogue>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let rules = billing_settings(&mut tx).await?;
        let offers = list_tariffs(&mut tx).await?;
        let current = account_summary(&mut tx, me.id)
            .await?
            .tariff
            .map(|t| t.code);
        let pending = pending_change(&mut tx, me.id).await?;
        tx.commit().await?;
        Ok(Json(TariffCatalogue {
            rule: rules.tariff_change_rule.into(),
            current_code: current,
            pending: pending.map(|(code, effective_at)| PendingTariff { code, effective_at }),
            items: offers
                .into_iter()
                .map(|t| TariffOffer {
                    code: t.code,
                    name: t.name,
                    monthly_price: t.monthly_price.into(),
                    speed_mbps: t.speed_mbps,
                })
                .collect(),
        }))
    }

    /// Changes tariff under the ISP's rule (at once with pro-rating, or from next month).
    #[oai(path = "/tariff", method = "post", operation_id = "changeTariff")]
    async fn change_tariff(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<TariffChangeRequest>,
    ) -> Result<Json<TariffChangeResult>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let change = change_tariff(&mut tx, me.id, body.code.trim(), Utc::now()).await?;
        tx.commit().await?;
        Ok(Json(TariffChangeResult {
            rule: change.rule.into(),
            effective_at: change.effective_at,
            credited: change.credited.into(),
            charged: change.charged.into(),
        }))
    }

    /// The ISP's add-on services, with the ones the subscriber has.
    #[oai(path = "/addons", method = "get", operation_id = "listMyAddons")]
    async fn addons(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<AddonList>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let offers = kabinet_billing::addons_for(&mut tx, me.id).await?;
        tx.commit().await?;
        Ok(Json(AddonList {
            items: offers
                .into_iter()
                .map(|a| Addon {
                    code: a.code,
                    name: a.name,
                    description: a.description,
                    monthly_price: a.monthly_price.into(),
                    connected_at: a.connected_at,
                })
                .collect(),
        }))
    }

    /// Connects an add-on; the rest of an already charged month is charged now.
    #[oai(path = "/addons/:code", method = "post", operation_id = "connectAddon")]
    async fn connect_addon(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        #[oai(validator(max_length = 64))] code: poem_openapi::param::Path<String>,
    ) -> Result<AddonConnected, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let charged = kabinet_billing::connect_addon(&mut tx, me.id, &code.0, Utc::now()).await?;
        tx.commit().await?;
        Ok(AddonConnected::Created(Json(AddonChange {
            amount: charged.into(),
        })))
    }

    /// Disconnects an add-on; unused days of a charged month come back.
    #[oai(
        path = "/addons/:code",
        method = "delete",
        operation_id = "disconnectAddon"
    )]
    async fn disconnect_addon(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        #[oai(validator(max_length = 64))] code: poem_openapi::param::Path<String>,
    ) -> Result<Json<AddonChange>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let refunded =
            kabinet_billing::disconnect_addon(&mut tx, me.id, &code.0, Utc::now()).await?;
        tx.commit().await?;
        Ok(Json(AddonChange {
            amount: refunded.into(),
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
