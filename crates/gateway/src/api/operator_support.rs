//! Operator support: impersonation. The operator console starts a visit to an ISP's console
//! (`/platform/tenants/{slug}/impersonations…`), the ISP's host exchanges the single-use entry
//! token for a console session (`POST /auth/impersonation`), and the ISP's owner sees and ends
//! the visits (`/console/impersonations…`).

use chrono::{DateTime, Utc};
use kabinet_access::impersonation::{
    self, Access, EndedBy, Impersonating, Impersonation, ImpersonationError,
};
use kabinet_access::{Permission, Principal};
use kabinet_tenancy::{Slug, Tenant, find_tenant_by_slug, tenant_hosts};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::dto::SessionInfo;
use super::text::Text;
use crate::AppState;
use crate::auth::{OperatorAuth, StaffAuth, check_origin, client_info, session_cookie};
use crate::problem::ApiError;
use crate::site::SiteCtx;

/// Impersonation in the operator console.
pub struct PlatformImpersonationApi;

/// The ISP host's side: redeeming the entry token.
pub struct ImpersonationEntryApi;

/// The ISP owner's view of the visits.
pub struct ConsoleImpersonationApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = (
    PlatformImpersonationApi,
    ImpersonationEntryApi,
    ConsoleImpersonationApi,
);

pub fn apis() -> Apis {
    (
        PlatformImpersonationApi,
        ImpersonationEntryApi,
        ConsoleImpersonationApi,
    )
}

/// What a visit may do. `read_only`: what the built-in read-only role sees. `support`: also fix
/// subscribers, tickets (status, assignment), the catalogue, settings, the knowledge base and
/// network logins. Neither manages staff, moves money or replies to subscribers.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum VisitAccess {
    ReadOnly,
    Support,
}

impl From<VisitAccess> for Access {
    fn from(a: VisitAccess) -> Self {
        match a {
            VisitAccess::ReadOnly => Self::ReadOnly,
            VisitAccess::Support => Self::Support,
        }
    }
}

impl From<Access> for VisitAccess {
    fn from(a: Access) -> Self {
        match a {
            Access::ReadOnly => Self::ReadOnly,
            Access::Support => Self::Support,
        }
    }
}

/// The banner every console page shows during a visit.
#[derive(Debug, Object)]
pub struct VisitBanner {
    pub id: Uuid,
    pub operator_name: String,
    pub reason: String,
    pub access: VisitAccess,
    /// The time box: the session ends then.
    pub expires_at: DateTime<Utc>,
}

impl From<&Impersonating> for VisitBanner {
    fn from(v: &Impersonating) -> Self {
        Self {
            id: v.id,
            operator_name: v.operator_name.clone(),
            reason: v.reason.clone(),
            access: v.access.into(),
            expires_at: v.expires_at,
        }
    }
}

#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum VisitEndedBy {
    Operator,
    Owner,
    SignedOut,
}

/// One visit, as the ISP's owner and the operator see it.
#[derive(Debug, Object)]
pub struct Visit {
    pub id: Uuid,
    pub operator_id: Uuid,
    pub operator_name: String,
    pub reason: String,
    pub access: VisitAccess,
    pub created_at: DateTime<Utc>,
    /// When the operator's browser entered the console (the entry token was used).
    #[oai(skip_serializing_if_is_none)]
    pub entered_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// Ended early; a visit past `expires_at` without it simply ran out.
    #[oai(skip_serializing_if_is_none)]
    pub ended_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub ended_by: Option<VisitEndedBy>,
    /// Not ended and not past its time box.
    pub active: bool,
}

impl From<Impersonation> for Visit {
    fn from(v: Impersonation) -> Self {
        let active = v.active(Utc::now());
        Self {
            id: v.id,
            operator_id: v.operator_id,
            operator_name: v.operator_name,
            reason: v.reason,
            access: v.access.into(),
            created_at: v.created_at,
            entered_at: v.redeemed_at,
            expires_at: v.expires_at,
            ended_at: v.ended_at,
            ended_by: v.ended_by.as_deref().and_then(|b| match b {
                "operator" => Some(VisitEndedBy::Operator),
                "owner" => Some(VisitEndedBy::Owner),
                "signed_out" => Some(VisitEndedBy::SignedOut),
                _ => None,
            }),
            active,
        }
    }
}

#[derive(Debug, Object)]
pub struct VisitList {
    pub items: Vec<Visit>,
}

#[derive(Debug, Object)]
pub struct StartVisit {
    /// Why the operator enters (at least 10 characters): the ISP's owner reads it.
    #[oai(validator(max_length = 500))]
    pub reason: Text,
    /// The time box, 15 to 120 minutes.
    pub minutes: i64,
    /// `read_only` unless given.
    #[oai(skip_serializing_if_is_none)]
    pub access: Option<VisitAccess>,
}

/// A started visit. Send the browser to `https://{host}{entry_path}#{token}` at once: the
/// token works once, on that host only, until `token_expires_at` (a minute).
#[derive(Debug, Object)]
pub struct StartedVisit {
    pub visit: Visit,
    pub host: String,
    pub entry_path: String,
    pub token: String,
    pub token_expires_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
enum VisitStarted {
    #[oai(status = 201)]
    Created(Json<StartedVisit>),
}

#[derive(Debug, Object)]
pub struct EnterVisit {
    #[oai(validator(min_length = 1, max_length = 100))]
    pub token: Text,
}

#[derive(ApiResponse)]
enum Entered {
    /// The console session of the visit; the session cookie is set.
    #[oai(status = 200)]
    Ok(Json<SessionInfo>, #[oai(header = "Set-Cookie")] String),
}

impl From<ImpersonationError> for ApiError {
    fn from(e: ImpersonationError) -> Self {
        use poem::http::StatusCode;
        let detail = Some(e.to_string());
        match e {
            ImpersonationError::ReasonRequired => {
                Self::bad_request("reason_required", e.to_string())
            }
            ImpersonationError::Duration => Self::bad_request("invalid_duration", e.to_string()),
            ImpersonationError::NoOwner => Self::new(
                StatusCode::CONFLICT,
                "no_owner",
                "The ISP has no active owner",
                detail,
            ),
            ImpersonationError::TokenInvalid => Self::new(
                StatusCode::GONE,
                "impersonation_link_invalid",
                "This entry link does not work",
                detail,
            ),
            ImpersonationError::NotFound => Self::not_found(),
            ImpersonationError::Access(a) => a.into(),
        }
    }
}

fn operator(auth: &OperatorAuth) -> Result<(Uuid, &str), ApiError> {
    match &auth.0.principal {
        Principal::Operator {
            id, display_name, ..
        } => Ok((*id, display_name)),
        _ => Err(ApiError::forbidden()),
    }
}

async fn tenant_by_slug(state: &AppState, slug: &str) -> Result<Tenant, ApiError> {
    let slug = Slug::parse(slug).map_err(|_| ApiError::not_found())?;
    let mut tx = state.db.platform_tx().await?;
    let tenant = find_tenant_by_slug(tx.conn(), &slug)
        .await?
        .ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    Ok(tenant)
}

#[OpenApi(prefix_path = "/platform", tag = "Tag::Platform")]
impl PlatformImpersonationApi {
    /// Starts a support visit to the ISP's console: a stated reason, a time box, and an access
    /// level. Recorded in the ISP's audit chain; the owner sees it in the console.
    #[oai(
        path = "/tenants/:slug/impersonations",
        method = "post",
        operation_id = "startImpersonation"
    )]
    async fn start(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: OperatorAuth,
        slug: Path<String>,
        body: Json<StartVisit>,
    ) -> Result<VisitStarted, ApiError> {
        let (operator_id, name) = operator(&auth)?;
        let tenant = tenant_by_slug(&state, &slug).await?;
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        let started = impersonation::start(
            &mut tx,
            impersonation::Operator {
                id: operator_id,
                name,
            },
            &body.reason,
            body.minutes,
            body.access.map_or(Access::ReadOnly, Into::into),
            &client_info(req, &state),
        )
        .await?;
        let hosts = tenant_hosts(&mut tx).await?;
        tx.commit().await?;
        let host = hosts
            .iter()
            .find(|(_, verified)| *verified)
            .or(hosts.first())
            .map(|(h, _)| h.clone())
            .ok_or_else(ApiError::not_found)?;
        Ok(VisitStarted::Created(Json(StartedVisit {
            visit: started.impersonation.into(),
            host,
            entry_path: "/console/impersonate".into(),
            token: started.token,
            token_expires_at: started.token_expires_at,
        })))
    }

    /// The ISP's support visits, newest first (the last 50).
    #[oai(
        path = "/tenants/:slug/impersonations",
        method = "get",
        operation_id = "listTenantImpersonations"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        slug: Path<String>,
    ) -> Result<Json<VisitList>, ApiError> {
        operator(&auth)?;
        let tenant = tenant_by_slug(&state, &slug).await?;
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        let items = impersonation::list(&mut tx, 50).await?;
        tx.commit().await?;
        Ok(Json(VisitList {
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// Ends a visit now, whoever's it is: its session stops working at once.
    #[oai(
        path = "/tenants/:slug/impersonations/:id/end",
        method = "post",
        operation_id = "endTenantImpersonation"
    )]
    async fn end(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        slug: Path<String>,
        id: Path<Uuid>,
    ) -> Result<Json<Visit>, ApiError> {
        operator(&auth)?;
        let tenant = tenant_by_slug(&state, &slug).await?;
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        let visit = impersonation::end(&mut tx, id.0, EndedBy::Operator).await?;
        tx.commit().await?;
        Ok(Json(visit.into()))
    }
}

#[OpenApi(tag = "Tag::Session")]
impl ImpersonationEntryApi {
    /// Exchanges a support visit's entry token for a console session on this ISP's host. The
    /// token works once, within a minute, and only on the host of the ISP it was issued for.
    #[oai(
        path = "/auth/impersonation",
        method = "post",
        operation_id = "enterImpersonation"
    )]
    async fn enter(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        body: Json<EnterVisit>,
    ) -> Result<Entered, ApiError> {
        check_origin(req, &site)?;
        let tenant = site.tenant().cloned().ok_or_else(ApiError::not_found)?;
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        let session = impersonation::redeem(
            &mut tx,
            &body.token,
            state.config.sessions,
            &client_info(req, &state),
        )
        .await?;
        tx.commit().await?;
        let max_age = (session.expires_at - Utc::now()).num_seconds().max(0);
        let cookie = session_cookie(&state, &session.token, max_age);
        let info = super::session::session_info(&state, &session.principal).await?;
        Ok(Entered::Ok(Json(info), cookie))
    }
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl ConsoleImpersonationApi {
    /// Every support visit of the platform's operators to this console, newest first (the
    /// last 100): who, why, when, until when, and how it ended.
    #[oai(
        path = "/impersonations",
        method = "get",
        operation_id = "listImpersonations"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<VisitList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::AuditRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let items = impersonation::list(&mut tx, 100).await?;
        tx.commit().await?;
        Ok(Json(VisitList {
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// Ends an operator's visit now (its session stops working at once). Recorded in the
    /// audit log as this staff member's action.
    #[oai(
        path = "/impersonations/:id/end",
        method = "post",
        operation_id = "endImpersonation"
    )]
    async fn end(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Visit>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let visit = impersonation::end(&mut tx, id.0, EndedBy::Owner(staff.id)).await?;
        tx.commit().await?;
        Ok(Json(visit.into()))
    }
}
