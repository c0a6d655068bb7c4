//! SaaS plans: the operator's price list and an ISP's plan (`/platform/plans…`,
//! `/platform/tenants/:slug/plan`), and the ISP's own plan page with its usage, limit warnings and
//! SaaS billing standing (`/console/plan`).

use chrono::{DateTime, Utc};
use kabinet_access::Principal;
use kabinet_access::audit::record_operator;
use kabinet_provisioning::dunning::{self, BillingState};
use kabinet_tenancy::plans::{
    self, LimitWarning, PlanError, PlanFeature, PlanInput, PlanLimit, PlanStatus, SaasPlan,
};
use kabinet_tenancy::{PlanFeatureMissing, PlanLimitReached, Slug, find_tenant_by_slug};
use poem::Request;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use serde_json::json;

use super::Tag;
use super::text::Text;
use crate::AppState;
use crate::auth::{OperatorAuth, StaffAuth, client_info};
use crate::problem::ApiError;

/// The operator's price list.
pub struct SaasPlansApi;

/// The ISP's own plan page.
pub struct ConsolePlanApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = (SaasPlansApi, ConsolePlanApi);

pub fn apis() -> Apis {
    (SaasPlansApi, ConsolePlanApi)
}

#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum Feature {
    CustomDomains,
    OnlinePayments,
    Network,
}

impl From<PlanFeature> for Feature {
    fn from(f: PlanFeature) -> Self {
        match f {
            PlanFeature::CustomDomains => Self::CustomDomains,
            PlanFeature::OnlinePayments => Self::OnlinePayments,
            PlanFeature::Network => Self::Network,
        }
    }
}

impl From<Feature> for PlanFeature {
    fn from(f: Feature) -> Self {
        match f {
            Feature::CustomDomains => Self::CustomDomains,
            Feature::OnlinePayments => Self::OnlinePayments,
            Feature::Network => Self::Network,
        }
    }
}

#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum Limit {
    Subscribers,
    StaffSeats,
    /// Bytes: ticket attachments and the logo.
    Storage,
}

impl From<PlanLimit> for Limit {
    fn from(l: PlanLimit) -> Self {
        match l {
            PlanLimit::Subscribers => Self::Subscribers,
            PlanLimit::StaffSeats => Self::StaffSeats,
            PlanLimit::Storage => Self::Storage,
        }
    }
}

/// A plan of the price list.
#[derive(Debug, Object)]
pub struct Plan {
    pub code: String,
    pub name: String,
    /// Per active subscriber per month, in minor units of `currency`.
    pub price_per_subscriber: i64,
    pub currency: String,
    /// Absent: unlimited.
    #[oai(skip_serializing_if_is_none)]
    pub max_subscribers: Option<i32>,
    #[oai(skip_serializing_if_is_none)]
    pub max_staff_seats: Option<i32>,
    #[oai(skip_serializing_if_is_none)]
    pub max_storage_bytes: Option<i64>,
    pub features: Vec<Feature>,
    pub archived: bool,
    /// ISPs on this plan.
    pub tenants: i64,
}

impl From<SaasPlan> for Plan {
    fn from(p: SaasPlan) -> Self {
        Self {
            code: p.code,
            name: p.name,
            price_per_subscriber: p.price_per_subscriber,
            currency: p.currency.code().to_owned(),
            max_subscribers: p.max_subscribers,
            max_staff_seats: p.max_staff_seats,
            max_storage_bytes: p.max_storage_bytes,
            features: p.features.into_iter().map(Into::into).collect(),
            archived: p.archived,
            tenants: p.tenants,
        }
    }
}

#[derive(Debug, Object)]
pub struct PlanList {
    pub items: Vec<Plan>,
}

/// A plan as the operator writes it. Absent or null limits are unlimited.
#[derive(Debug, Object)]
pub struct PlanBody {
    #[oai(validator(min_length = 1, max_length = 100))]
    pub name: Text,
    #[oai(validator(minimum(value = "0"), maximum(value = "100000000")))]
    pub price_per_subscriber: i64,
    #[oai(validator(min_length = 3, max_length = 3))]
    pub currency: Text,
    #[oai(nullable, validator(minimum(value = "0")))]
    pub max_subscribers: Option<i32>,
    #[oai(nullable, validator(minimum(value = "1")))]
    pub max_staff_seats: Option<i32>,
    #[oai(nullable, validator(minimum(value = "0")))]
    pub max_storage_bytes: Option<i64>,
    #[oai(validator(max_items = 3))]
    pub features: Vec<Feature>,
}

impl PlanBody {
    fn input(&self) -> PlanInput {
        PlanInput {
            name: self.name.to_string(),
            price_per_subscriber: self.price_per_subscriber,
            currency: self.currency.to_string(),
            max_subscribers: self.max_subscribers,
            max_staff_seats: self.max_staff_seats,
            max_storage_bytes: self.max_storage_bytes,
            features: self.features.iter().map(|f| (*f).into()).collect(),
        }
    }
}

#[derive(Debug, Object)]
pub struct NewPlan {
    #[oai(validator(min_length = 1, max_length = 32))]
    pub code: Text,
    #[oai(flatten)]
    pub plan: PlanBody,
}

#[derive(Debug, Object)]
pub struct PlanUpdate {
    #[oai(flatten)]
    pub plan: PlanBody,
    /// Archived plans keep their ISPs but are offered to nobody new.
    pub archived: bool,
}

#[derive(Debug, Object)]
pub struct TenantPlanChange {
    #[oai(validator(min_length = 1, max_length = 32))]
    pub plan: Text,
}

#[derive(Debug, Object)]
pub struct TenantPlan {
    pub slug: String,
    pub saas_plan: String,
}

/// How close the ISP is to a limit.
#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum Warning {
    None,
    /// At least 80 %.
    Approaching,
    /// At least 95 %.
    Critical,
}

impl From<LimitWarning> for Warning {
    fn from(w: LimitWarning) -> Self {
        match w {
            LimitWarning::None => Self::None,
            LimitWarning::Approaching => Self::Approaching,
            LimitWarning::Critical => Self::Critical,
        }
    }
}

#[derive(Debug, Object)]
pub struct LimitUsage {
    pub limit: Limit,
    pub used: i64,
    /// Absent: unlimited.
    #[oai(skip_serializing_if_is_none)]
    pub max: Option<i64>,
    pub warning: Warning,
}

#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum Billing {
    Current,
    /// A payment failed: a warning.
    PastDue,
    /// Changes are refused until the subscription is paid.
    ReadOnly,
    Suspended,
}

impl From<BillingState> for Billing {
    fn from(s: BillingState) -> Self {
        match s {
            BillingState::Current => Self::Current,
            BillingState::PastDue => Self::PastDue,
            BillingState::ReadOnly => Self::ReadOnly,
            BillingState::Suspended => Self::Suspended,
        }
    }
}

/// The ISP's plan page.
#[derive(Debug, Object)]
pub struct ConsolePlan {
    pub plan: Plan,
    pub usage: Vec<LimitUsage>,
    /// The worst of the limits' warnings: the console shows a banner from `approaching` on.
    pub warning: Warning,
    pub billing: Billing,
    /// When the next dunning step falls due if the subscription stays unpaid.
    #[oai(skip_serializing_if_is_none)]
    pub next_step_at: Option<DateTime<Utc>>,
    pub measured_at: DateTime<Utc>,
}

impl ConsolePlan {
    fn new(status: PlanStatus, standing: dunning::Standing) -> Self {
        Self {
            usage: status
                .usage
                .iter()
                .map(|u| LimitUsage {
                    limit: u.limit.into(),
                    used: u.used,
                    max: u.max,
                    warning: u.warning.into(),
                })
                .collect(),
            warning: status.warning.into(),
            plan: status.plan.into(),
            billing: standing.state.into(),
            next_step_at: standing.next_step_at,
            measured_at: status.measured_at,
        }
    }
}

/// With `plan_limit_reached`: the limit, the plan's maximum and what the refused write would
/// have brought the ISP to.
#[derive(Clone, Debug, Object)]
pub struct PlanLimitProblem {
    pub limit: Limit,
    pub max: i64,
    pub current: i64,
}

/// The problem for a write refused by a plan limit (409).
pub fn plan_limit_problem(reached: PlanLimitReached) -> ApiError {
    let what = match reached.limit {
        PlanLimit::Subscribers => "subscribers",
        PlanLimit::StaffSeats => "staff seats",
        PlanLimit::Storage => "bytes of storage",
    };
    let mut error = ApiError::new(
        StatusCode::CONFLICT,
        "plan_limit_reached",
        "The SaaS plan's limit is reached",
        Some(format!(
            "The plan includes {} {what}; this would make {}. Choose a bigger plan or free some up.",
            reached.max, reached.current
        )),
    );
    let ApiError::Problem(_, problem) = &mut error;
    problem.plan_limit = Some(Box::new(PlanLimitProblem {
        limit: reached.limit.into(),
        max: reached.max,
        current: reached.current,
    }));
    error
}

/// 403 `plan_feature_missing`: the ISP's SaaS plan does not include what the request needs.
pub fn plan_feature_problem(missing: PlanFeatureMissing) -> ApiError {
    let what = match missing.feature {
        PlanFeature::CustomDomains => "custom domains",
        PlanFeature::OnlinePayments => "card payments",
        PlanFeature::Network => "network integration (NAS and RADIUS)",
    };
    let mut error = ApiError::new(
        StatusCode::FORBIDDEN,
        "plan_feature_missing",
        "Not included in the SaaS plan",
        Some(format!(
            "The ISP's Kabinet plan does not include {what}. Choose a plan that does."
        )),
    );
    let ApiError::Problem(_, problem) = &mut error;
    problem.plan_feature = Some(missing.feature.into());
    error
}

impl From<PlanError> for ApiError {
    fn from(e: PlanError) -> Self {
        match e {
            PlanError::Invalid { field, reason } => {
                ApiError::unprocessable("invalid_plan", format!("{field}: {reason}"))
            }
            PlanError::UnknownPlan(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_plan",
                "No such plan",
                Some(e.to_string()),
            ),
            PlanError::Archived(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "plan_archived",
                "The plan is archived",
                Some(e.to_string()),
            ),
            PlanError::CodeTaken(_) => ApiError::new(
                StatusCode::CONFLICT,
                "plan_code_taken",
                "The plan code is taken",
                Some(e.to_string()),
            ),
            PlanError::Db(db) => db.into(),
        }
    }
}

impl From<dunning::DunningError> for ApiError {
    fn from(e: dunning::DunningError) -> Self {
        match e {
            dunning::DunningError::Access(e) => e.into(),
            dunning::DunningError::Tenancy(e) => e.into(),
            dunning::DunningError::Db(db) => db.into(),
            dunning::DunningError::Mail(e) => ApiError::internal("dunning letter", &e),
        }
    }
}

fn operator(auth: &OperatorAuth) -> Result<(uuid::Uuid, String), ApiError> {
    match &auth.0.principal {
        Principal::Operator {
            id, display_name, ..
        } => Ok((*id, display_name.clone())),
        _ => Err(ApiError::forbidden()),
    }
}

fn plan_json(p: &SaasPlan) -> serde_json::Value {
    json!({
        "name": p.name,
        "price_per_subscriber": p.price_per_subscriber,
        "currency": p.currency.code(),
        "max_subscribers": p.max_subscribers,
        "max_staff_seats": p.max_staff_seats,
        "max_storage_bytes": p.max_storage_bytes,
        "features": p.features.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "archived": p.archived,
    })
}

#[OpenApi(prefix_path = "/platform", tag = "Tag::Platform")]
impl SaasPlansApi {
    /// The price list, archived plans included (last).
    #[oai(path = "/plans", method = "get", operation_id = "listSaasPlans")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
    ) -> Result<Json<PlanList>, ApiError> {
        operator(&auth)?;
        let mut tx = state.db.platform_tx().await?;
        let items = plans::list_plans(tx.conn(), true).await?;
        tx.commit().await?;
        Ok(Json(PlanList {
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// Adds a plan to the price list.
    #[oai(path = "/plans", method = "post", operation_id = "createSaasPlan")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        body: Json<NewPlan>,
    ) -> Result<Json<Plan>, ApiError> {
        let (id, name) = operator(&auth)?;
        let mut tx = state.db.platform_tx().await?;
        let plan = plans::create_plan(tx.conn(), &body.code, &body.plan.input()).await?;
        tx.commit().await?;
        tracing::info!(operator = %id, operator_name = %name, plan = %plan.code, "saas plan created");
        Ok(Json(plan.into()))
    }

    /// Changes a plan (name, price, limits, features) or archives it. A lower limit applies to
    /// new writes: nothing an ISP already has is taken away.
    #[oai(path = "/plans/:code", method = "put", operation_id = "updateSaasPlan")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        code: Path<String>,
        body: Json<PlanUpdate>,
    ) -> Result<Json<Plan>, ApiError> {
        let (id, name) = operator(&auth)?;
        let mut tx = state.db.platform_tx().await?;
        let (before, after) =
            plans::update_plan(tx.conn(), &code, &body.plan.input(), body.archived)
                .await
                .map_err(|e| match e {
                    PlanError::UnknownPlan(_) => ApiError::not_found(),
                    other => other.into(),
                })?;
        tx.commit().await?;
        tracing::info!(
            operator = %id, operator_name = %name, plan = %after.code,
            before = %plan_json(&before), after = %plan_json(&after), "saas plan changed"
        );
        Ok(Json(after.into()))
    }

    /// Moves an ISP to another plan (not an archived one). Recorded in the ISP's audit log with
    /// the operator's name. Limits apply to the ISP's next writes.
    #[oai(
        path = "/tenants/:slug/plan",
        method = "put",
        operation_id = "changeTenantPlan"
    )]
    async fn change_tenant_plan(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: OperatorAuth,
        slug: Path<String>,
        body: Json<TenantPlanChange>,
    ) -> Result<Json<TenantPlan>, ApiError> {
        let (operator, display_name) = operator(&auth)?;
        let slug = Slug::parse(&slug).map_err(|_| ApiError::not_found())?;
        let mut lookup = state.db.platform_tx().await?;
        let tenant = find_tenant_by_slug(lookup.conn(), &slug)
            .await?
            .ok_or_else(ApiError::not_found)?;
        lookup.commit().await?;
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        let (before, after) = plans::change_tenant_plan(&mut tx, &body.plan).await?;
        record_operator(
            &mut tx,
            operator,
            "tenant.change_plan",
            format!("tenant:{}", before.slug),
            json!({
                "operator": { "id": operator, "name": display_name },
                "before": { "saas_plan": before.saas_plan },
                "after": { "saas_plan": after.saas_plan },
            }),
            &client_info(req, &state),
        )
        .await?;
        tx.commit().await?;
        super::saas_billing::ensure_in_background(&state, after.id);
        Ok(Json(TenantPlan {
            slug: after.slug.to_string(),
            saas_plan: after.saas_plan,
        }))
    }
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl ConsolePlanApi {
    /// The ISP's SaaS plan: its limits, what is used of each (counted now), a warning from 80 %
    /// and 95 % of a limit, and the SaaS billing standing. Any staff member.
    #[oai(path = "/plan", method = "get", operation_id = "getConsolePlan")]
    async fn plan(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<ConsolePlan>, ApiError> {
        let staff = auth.0;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let status = plans::plan_status(&mut tx).await?;
        let standing = dunning::standing(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(ConsolePlan::new(status, standing)))
    }
}
