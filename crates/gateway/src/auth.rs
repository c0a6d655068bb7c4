//! Authentication at the edge: the session cookie, CSRF, the caller's address.
//!
//! Three poem-openapi security schemes — [`SubscriberAuth`], [`StaffAuth`], [`OperatorAuth`] —
//! read the same session cookie and accept only their kind of principal, on their kind of site.
//! Their checkers also enforce CSRF for state-changing methods, so no handler can forget it.

use std::sync::Arc;

use kabinet_access::sessions::{find_operator_session, find_tenant_session};
use kabinet_access::{AccessError, ClientInfo, Permission, Principal};
use kabinet_core::{StaffId, SubscriberId};
use kabinet_tenancy::Tenant;
use poem::http::{HeaderValue, Method, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::SecurityScheme;
use poem_openapi::auth::ApiKey;

use crate::AppState;
use crate::problem::ApiError;
use crate::site::SiteCtx;

/// The cookie as the API documents it (plain HTTP, e.g. local development).
pub const SESSION_COOKIE: &str = "kabinet_session";
/// The cookie over HTTPS: `__Host-` pins it to this exact host, so no sibling subdomain (another
/// ISP's portal) can plant or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-kabinet_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Over HTTPS the browser sends `__Host-kabinet_session`; the API layer reads
/// `kabinet_session`. Rename the first to the second and drop any plain one a sibling host
/// might have planted, so the `__Host-` guarantee carries through.
pub async fn normalize_session_cookie<E: Endpoint>(
    next: E,
    mut req: Request,
) -> poem::Result<Response> {
    let secure = req
        .data::<AppState>()
        .is_some_and(|s| s.config.secure_cookies);
    if secure {
        let cookies: Vec<String> = req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .map(str::trim)
            .filter(|c| !c.starts_with(&format!("{SESSION_COOKIE}=")))
            .map(
                |c| match c.strip_prefix(&format!("{SECURE_SESSION_COOKIE}=")) {
                    Some(value) => format!("{SESSION_COOKIE}={value}"),
                    None => c.to_owned(),
                },
            )
            .collect();
        req.headers_mut().remove(header::COOKIE);
        if !cookies.is_empty()
            && let Ok(value) = HeaderValue::from_str(&cookies.join("; "))
        {
            req.headers_mut().insert(header::COOKIE, value);
        }
    }
    Ok(next.call(req).await?.into_response())
}

/// `Set-Cookie` for a new session.
pub fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> String {
    if state.config.secure_cookies {
        format!(
            "{SECURE_SESSION_COOKIE}={token}; Path=/; Max-Age={max_age_secs}; HttpOnly; Secure; SameSite=Lax"
        )
    } else {
        format!("{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax")
    }
}

/// `Set-Cookie` that removes the session cookie.
pub fn cleared_cookie(state: &AppState) -> String {
    session_cookie(state, "", 0)
}

pub fn client_info(req: &Request, state: &AppState) -> ClientInfo {
    let forwarded = state
        .config
        .trust_forwarded_for
        .then(|| {
            req.headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().to_owned())
        })
        .flatten();
    let addr = forwarded.or_else(|| {
        req.remote_addr()
            .as_socket_addr()
            .map(|a| a.ip().to_string())
    });
    ClientInfo {
        addr,
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(300).collect()),
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses a cross-site request: when the browser says where it comes from (`Origin`), that must
/// be this very host. Sign-in endpoints rely on this plus their JSON body (which a cross-site
/// form cannot send without a CORS preflight we never grant).
pub fn check_origin(req: &Request, site: &SiteCtx) -> Result<(), ApiError> {
    if is_safe(req.method()) {
        return Ok(());
    }
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(());
    };
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .and_then(|rest| kabinet_tenancy::Host::parse(rest).ok());
    if origin_host.as_ref() == Some(&site.host) {
        Ok(())
    } else {
        Err(AccessError::CsrfRejected.into())
    }
}

fn check_csrf(req: &Request, principal: &Principal) -> Result<(), ApiError> {
    if is_safe(req.method()) {
        return Ok(());
    }
    let presented = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if principal.csrf_matches(presented) {
        Ok(())
    } else {
        Err(AccessError::CsrfRejected.into())
    }
}

fn parts(req: &Request) -> Result<(AppState, SiteCtx), ApiError> {
    let state = req
        .data::<AppState>()
        .cloned()
        .ok_or_else(|| ApiError::internal("auth", &"application state missing"))?;
    let site = req
        .extensions()
        .get::<SiteCtx>()
        .cloned()
        .ok_or_else(|| ApiError::internal("auth", &"site not resolved"))?;
    Ok((state, site))
}

/// A tenant-site session of either kind, with the CSRF check done.
async fn tenant_principal(
    req: &Request,
    key: &ApiKey,
) -> Result<(AppState, Arc<Tenant>, Principal), ApiError> {
    let (state, site) = parts(req)?;
    let tenant = site
        .tenant()
        .cloned()
        .ok_or_else(ApiError::unauthenticated)?;
    check_origin(req, &site)?;
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let principal = find_tenant_session(&mut tx, &key.key, state.config.sessions).await?;
    tx.commit().await?;
    check_csrf(req, &principal)?;
    tracing::Span::current().record("principal", principal.log_label());
    Ok((state, tenant, principal))
}

/// A signed-in subscriber of the request's tenant.
pub struct Subscriber {
    pub tenant: Arc<Tenant>,
    pub id: SubscriberId,
    /// The session this request came with.
    pub session_id: uuid::Uuid,
}

/// A signed-in staff member of the request's tenant.
pub struct Staff {
    pub tenant: Arc<Tenant>,
    pub id: StaffId,
    pub client: ClientInfo,
    /// The ISP's policy version as read with this request's session.
    policy_version: i64,
    two_factor_required: bool,
    /// An operator's support visit: its permissions replace the staff member's, and its
    /// actions are audited as the operator ([`kabinet_access::impersonation`]).
    pub impersonation: Option<Box<kabinet_access::impersonation::Impersonating>>,
    state: AppState,
}

impl Staff {
    /// The route's one permission check. Refuses everything while the ISP's two-factor rule
    /// holds this staff member back (their own profile and enrolment need no permission).
    pub async fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.two_factor_required {
            return Err(AccessError::TwoFactorRequired.into());
        }
        if let Some(visit) = &self.impersonation {
            return if visit.access.allows(permission) {
                Ok(())
            } else {
                Err(AccessError::Forbidden.into())
            };
        }
        Ok(self
            .state
            .authorizer
            .require(self.tenant.id, self.id, permission, self.policy_version)
            .await?)
    }

    /// Records this staff member's action in the ISP's audit log, in the transaction that
    /// makes the change (so the entry and the change commit or roll back together).
    pub async fn audit(
        &self,
        tx: &mut kabinet_db::TenantTx,
        action: &str,
        target: String,
        details: serde_json::Value,
    ) -> Result<(), ApiError> {
        if let Some(visit) = &self.impersonation {
            let mut details = details;
            if let Some(fields) = details.as_object_mut() {
                fields.insert("impersonation".into(), visit.id.to_string().into());
            }
            kabinet_access::audit::record_operator(
                tx,
                visit.operator_id,
                action,
                target,
                details,
                &self.client,
            )
            .await?;
            return Ok(());
        }
        let entry = kabinet_access::AuditEntry {
            staff: Some(self.id),
            action,
            target,
            details,
        };
        kabinet_access::record(tx, entry, &self.client).await?;
        Ok(())
    }
}

/// A signed-in platform operator.
pub struct Operator {
    pub principal: Principal,
}

/// Any signed-in principal on this site (for session info and sign-out).
pub struct AnyPrincipal {
    pub tenant: Option<Arc<Tenant>>,
    pub principal: Principal,
}

async fn check_subscriber(req: &Request, key: ApiKey) -> poem::Result<Subscriber> {
    let (_, tenant, principal) = tenant_principal(req, &key).await?;
    match principal {
        Principal::Subscriber { id, session_id, .. } => Ok(Subscriber {
            tenant,
            id,
            session_id,
        }),
        _ => Err(ApiError::unauthenticated().into()),
    }
}

async fn check_staff(req: &Request, key: ApiKey) -> poem::Result<Staff> {
    let (state, tenant, principal) = tenant_principal(req, &key).await?;
    match principal {
        Principal::Staff {
            id,
            policy_version,
            two_factor_required,
            impersonation,
            ..
        } => {
            // The owner's own account (password, second factor) is theirs alone.
            let path = req.uri().path();
            if impersonation.is_some()
                && (path.contains("/console/me/") || path.ends_with("/console/me"))
            {
                return Err(ApiError::forbidden().into());
            }
            Ok(Staff {
                tenant,
                id,
                client: client_info(req, &state),
                policy_version,
                two_factor_required,
                impersonation,
                state,
            })
        }
        _ => Err(ApiError::unauthenticated().into()),
    }
}

async fn check_operator(req: &Request, key: ApiKey) -> poem::Result<Operator> {
    let (state, site) = parts(req)?;
    if site.tenant().is_some() {
        return Err(ApiError::unauthenticated().into());
    }
    check_origin(req, &site)?;
    let mut tx = state.db.platform_tx().await.map_err(ApiError::from)?;
    let principal = find_operator_session(&mut tx, &key.key, state.config.sessions)
        .await
        .map_err(ApiError::from)?;
    tx.commit().await.map_err(ApiError::from)?;
    check_csrf(req, &principal)?;
    tracing::Span::current().record("principal", principal.log_label());
    Ok(Operator { principal })
}

async fn check_any(req: &Request, key: ApiKey) -> poem::Result<AnyPrincipal> {
    let (_, site) = parts(req)?;
    if site.tenant().is_some() {
        let (_, tenant, principal) = tenant_principal(req, &key).await?;
        Ok(AnyPrincipal {
            tenant: Some(tenant),
            principal,
        })
    } else {
        Ok(AnyPrincipal {
            tenant: None,
            principal: check_operator(req, key).await?.principal,
        })
    }
}

/// Session cookie of a subscriber.
#[derive(SecurityScheme)]
#[oai(
    rename = "SubscriberSession",
    ty = "api_key",
    key_name = "kabinet_session",
    key_in = "cookie",
    checker = "check_subscriber"
)]
pub struct SubscriberAuth(pub Subscriber);

/// Session cookie of an ISP staff member.
#[derive(SecurityScheme)]
#[oai(
    rename = "StaffSession",
    ty = "api_key",
    key_name = "kabinet_session",
    key_in = "cookie",
    checker = "check_staff"
)]
pub struct StaffAuth(pub Staff);

/// Session cookie of a platform operator.
#[derive(SecurityScheme)]
#[oai(
    rename = "OperatorSession",
    ty = "api_key",
    key_name = "kabinet_session",
    key_in = "cookie",
    checker = "check_operator"
)]
pub struct OperatorAuth(pub Operator);

/// Session cookie of any principal on this site.
#[derive(SecurityScheme)]
#[oai(
    rename = "AnySession",
    ty = "api_key",
    key_name = "kabinet_session",
    key_in = "cookie",
    checker = "check_any"
)]
pub struct AnyAuth(pub AnyPrincipal);
