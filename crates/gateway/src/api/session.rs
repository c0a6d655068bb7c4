use kabinet_access::login::{login_operator, login_staff, login_subscriber};
use kabinet_access::sessions::{
    NewSession, revoke_all_operator_sessions, revoke_all_tenant_sessions, revoke_operator_session,
    revoke_tenant_session,
};
use kabinet_access::{Permission, Principal, Role};
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::Tag;
use super::dto::{EmailLogin, PrincipalKind, SessionInfo, Site, SiteKind, SubscriberLogin};
use crate::AppState;
use crate::auth::{AnyAuth, check_origin, cleared_cookie, client_info, session_cookie};
use crate::problem::ApiError;
use crate::site::SiteCtx;

pub struct SessionApi;

#[derive(ApiResponse)]
enum SignedIn {
    /// Signed in; the session cookie is set.
    #[oai(status = 200)]
    Ok(Json<SessionInfo>, #[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
enum SignedOut {
    /// Signed out; the session cookie is cleared.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

async fn session_info(state: &AppState, principal: &Principal) -> Result<SessionInfo, ApiError> {
    let (kind, roles, permissions) = match principal {
        Principal::Subscriber { .. } => (PrincipalKind::Subscriber, vec![], vec![]),
        Principal::Staff {
            tenant, id, roles, ..
        } => {
            let permissions = state.authorizer.permissions(*tenant, *id).await?;
            (
                PrincipalKind::Staff,
                roles.iter().map(|r: &Role| r.as_str().to_owned()).collect(),
                permissions.iter().map(Permission::name).collect(),
            )
        }
        Principal::Operator { .. } => (PrincipalKind::Operator, vec![], vec![]),
    };
    Ok(SessionInfo {
        kind,
        display_name: principal.display_name().to_owned(),
        csrf_token: principal.csrf_token().to_owned(),
        roles,
        permissions,
    })
}

async fn signed_in(state: &AppState, session: NewSession) -> Result<SignedIn, ApiError> {
    let max_age = (session.expires_at - chrono::Utc::now())
        .num_seconds()
        .max(0);
    let cookie = session_cookie(state, &session.token, max_age);
    Ok(SignedIn::Ok(
        Json(session_info(state, &session.principal).await?),
        cookie,
    ))
}

#[OpenApi(tag = "Tag::Session")]
impl SessionApi {
    /// Which site this Host is: an ISP's (with its branding) or the operator's.
    #[oai(path = "/site", method = "get", operation_id = "getSite")]
    async fn site(&self, site: Data<&SiteCtx>) -> Result<Json<Site>, ApiError> {
        Ok(Json(match site.tenant() {
            Some(tenant) => Site {
                kind: SiteKind::Tenant,
                branding: Some(tenant.as_ref().into()),
            },
            None => Site {
                kind: SiteKind::Platform,
                branding: None,
            },
        }))
    }

    /// The signed-in principal and its CSRF token.
    #[oai(path = "/session", method = "get", operation_id = "getSession")]
    async fn session(
        &self,
        state: Data<&AppState>,
        auth: AnyAuth,
    ) -> Result<Json<SessionInfo>, ApiError> {
        Ok(Json(session_info(&state, &auth.0.principal).await?))
    }

    /// Signs a subscriber in by account number, e-mail or phone.
    #[oai(
        path = "/auth/subscriber/login",
        method = "post",
        operation_id = "loginSubscriber"
    )]
    async fn login_subscriber(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        body: Json<SubscriberLogin>,
    ) -> Result<SignedIn, ApiError> {
        check_origin(req, &site)?;
        let tenant = site.tenant().ok_or_else(ApiError::not_found)?;
        let session = login_subscriber(
            &state.db,
            tenant.id,
            &body.login,
            &body.password,
            &client_info(req, &state),
            state.config.sessions,
            state.config.throttle,
        )
        .await?;
        signed_in(&state, session).await
    }

    /// Signs an ISP staff member in.
    #[oai(
        path = "/auth/staff/login",
        method = "post",
        operation_id = "loginStaff"
    )]
    async fn login_staff(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        body: Json<EmailLogin>,
    ) -> Result<SignedIn, ApiError> {
        check_origin(req, &site)?;
        let tenant = site.tenant().ok_or_else(ApiError::not_found)?;
        let session = login_staff(
            &state.db,
            tenant.id,
            &body.email,
            &body.password,
            &client_info(req, &state),
            state.config.sessions,
            state.config.throttle,
        )
        .await?;
        signed_in(&state, session).await
    }

    /// Signs a platform operator in (operator site only).
    #[oai(
        path = "/auth/operator/login",
        method = "post",
        operation_id = "loginOperator"
    )]
    async fn login_operator(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        body: Json<EmailLogin>,
    ) -> Result<SignedIn, ApiError> {
        check_origin(req, &site)?;
        if site.tenant().is_some() {
            return Err(ApiError::not_found());
        }
        let session = login_operator(
            &state.db,
            &body.email,
            &body.password,
            &client_info(req, &state),
            state.config.sessions,
            state.config.throttle,
        )
        .await?;
        signed_in(&state, session).await
    }

    /// Ends this session.
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(&self, state: Data<&AppState>, auth: AnyAuth) -> Result<SignedOut, ApiError> {
        match (&auth.0.tenant, &auth.0.principal) {
            (Some(tenant), p) => {
                let session_id = match p {
                    Principal::Subscriber { session_id, .. }
                    | Principal::Staff { session_id, .. } => *session_id,
                    Principal::Operator { .. } => return Err(ApiError::unauthenticated()),
                };
                let mut tx = state.db.tenant_tx(tenant.id).await?;
                revoke_tenant_session(&mut tx, session_id).await?;
                tx.commit().await?;
            }
            (None, Principal::Operator { session_id, .. }) => {
                let mut tx = state.db.platform_tx().await?;
                revoke_operator_session(&mut tx, *session_id).await?;
                tx.commit().await?;
            }
            (None, _) => return Err(ApiError::unauthenticated()),
        }
        Ok(SignedOut::Done(cleared_cookie(&state)))
    }

    /// Ends every session of the signed-in principal, on every device.
    #[oai(
        path = "/auth/logout-everywhere",
        method = "post",
        operation_id = "logoutEverywhere"
    )]
    async fn logout_everywhere(
        &self,
        state: Data<&AppState>,
        auth: AnyAuth,
    ) -> Result<SignedOut, ApiError> {
        match (&auth.0.tenant, &auth.0.principal) {
            (Some(tenant), principal) => {
                let mut tx = state.db.tenant_tx(tenant.id).await?;
                revoke_all_tenant_sessions(&mut tx, principal).await?;
                tx.commit().await?;
            }
            (None, Principal::Operator { id, .. }) => {
                let mut tx = state.db.platform_tx().await?;
                revoke_all_operator_sessions(&mut tx, *id).await?;
                tx.commit().await?;
            }
            (None, _) => return Err(ApiError::unauthenticated()),
        }
        Ok(SignedOut::Done(cleared_cookie(&state)))
    }
}
