use chrono::{DateTime, Utc};
use kabinet_access::login::{
    LoginOutcome, complete_second_factor, login_operator, login_staff, login_subscriber,
};
use kabinet_access::sessions::{
    NewSession, revoke_all_operator_sessions, revoke_all_tenant_sessions, revoke_operator_session,
    revoke_tenant_session,
};
use kabinet_access::{Permission, Principal, Role};
use poem::Request;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Union};

use super::Tag;
use super::dto::{EmailLogin, PrincipalKind, SessionInfo, Site, SiteKind, SubscriberLogin};
use super::text::Text;
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

/// The kinds of code the second step of a sign-in takes.
#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum SecondFactorMethod {
    /// Six digits from the authenticator app.
    Totp,
    /// One of the recovery codes given when two-factor authentication was turned on.
    RecoveryCode,
}

/// The password was right and the account has two-factor authentication: no session yet.
#[derive(Debug, Object)]
pub struct SecondFactorRequired {
    /// Opaque. Send it with a code to `POST /auth/login/second-factor`. It lives five minutes
    /// and dies after five wrong codes; then sign in with the password again.
    pub challenge: String,
    pub expires_at: DateTime<Utc>,
    pub methods: Vec<SecondFactorMethod>,
}

/// What a correct password leads to, told apart by `outcome`: `signed_in` (a session, the
/// cookie is set) or `second_factor_required` (answer the challenge with a code).
#[derive(Debug, Union)]
#[oai(discriminator_name = "outcome", one_of)]
pub enum LoginResult {
    #[oai(mapping = "signed_in")]
    SignedIn(SessionInfo),
    #[oai(mapping = "second_factor_required")]
    SecondFactorRequired(SecondFactorRequired),
}

#[derive(ApiResponse)]
pub(super) enum LoginAnswered {
    /// Signed in (`outcome` is `signed_in`; the session cookie is set), or the password was
    /// right and a second factor is needed (`second_factor_required`; no cookie yet).
    #[oai(status = 200)]
    Ok(
        Json<LoginResult>,
        #[oai(header = "Set-Cookie")] Option<String>,
    ),
}

#[derive(Debug, Object)]
pub struct SecondFactorLogin {
    /// The `challenge` from the password step.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub challenge: Text,
    /// Six digits from the authenticator app, or a recovery code (`XXXX-XXXX-XXXX`).
    #[oai(validator(min_length = 1, max_length = 64))]
    pub code: Text,
}

#[derive(ApiResponse)]
enum SignedOut {
    /// Signed out; the session cookie is cleared.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

pub(super) async fn session_info(
    state: &AppState,
    principal: &Principal,
) -> Result<SessionInfo, ApiError> {
    let (kind, roles, permissions) = match principal {
        Principal::Subscriber { .. } => (PrincipalKind::Subscriber, vec![], vec![]),
        Principal::Staff {
            impersonation: Some(visit),
            ..
        } => (
            PrincipalKind::Staff,
            vec![],
            visit
                .access
                .permissions()
                .iter()
                .map(Permission::name)
                .collect(),
        ),
        Principal::Staff {
            tenant,
            id,
            roles,
            policy_version,
            two_factor_required,
            ..
        } => {
            let permissions = if *two_factor_required {
                vec![]
            } else {
                state
                    .authorizer
                    .permissions(*tenant, *id, *policy_version)
                    .await?
            };
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
        two_factor_required: matches!(
            principal,
            Principal::Staff {
                two_factor_required: true,
                ..
            }
        ),
        impersonation: match principal {
            Principal::Staff {
                impersonation: Some(visit),
                ..
            } => Some(visit.as_ref().into()),
            _ => None,
        },
    })
}

pub(super) async fn login_answered(
    state: &AppState,
    outcome: LoginOutcome,
) -> Result<LoginAnswered, ApiError> {
    Ok(match outcome {
        LoginOutcome::SignedIn(session) => {
            let SignedIn::Ok(Json(info), cookie) = signed_in(state, session).await?;
            LoginAnswered::Ok(Json(LoginResult::SignedIn(info)), Some(cookie))
        }
        LoginOutcome::SecondFactor(challenge) => LoginAnswered::Ok(
            Json(LoginResult::SecondFactorRequired(SecondFactorRequired {
                challenge: challenge.token,
                expires_at: challenge.expires_at,
                methods: vec![SecondFactorMethod::Totp, SecondFactorMethod::RecoveryCode],
            })),
            None,
        ),
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
                published: tenant.published,
            },
            None => Site {
                kind: SiteKind::Platform,
                branding: None,
                published: true,
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

    /// Signs a subscriber in by account number, e-mail or phone. With two-factor
    /// authentication on, the answer is a challenge for `POST /auth/login/second-factor`.
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
    ) -> Result<LoginAnswered, ApiError> {
        check_origin(req, &site)?;
        let tenant = site.tenant().ok_or_else(ApiError::not_found)?;
        if !tenant.published {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "portal_not_published",
                "This portal is not open yet",
                Some("The provider is still setting it up.".into()),
            ));
        }
        let outcome = login_subscriber(
            &state.db,
            tenant.id,
            &body.login,
            &body.password,
            &client_info(req, &state),
            state.config.sessions,
            state.config.throttle,
        )
        .await?;
        login_answered(&state, outcome).await
    }

    /// Signs an ISP staff member in. With two-factor authentication on, the answer is a
    /// challenge for `POST /auth/login/second-factor`.
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
    ) -> Result<LoginAnswered, ApiError> {
        check_origin(req, &site)?;
        let tenant = site.tenant().ok_or_else(ApiError::not_found)?;
        let outcome = login_staff(
            &state.db,
            tenant.id,
            &body.email,
            &body.password,
            &client_info(req, &state),
            state.config.sessions,
            state.config.throttle,
        )
        .await?;
        login_answered(&state, outcome).await
    }

    /// The second step of a sign-in with two-factor authentication: the challenge from the
    /// password step and a code from the authenticator app or a recovery code. Wrong codes are
    /// throttled like wrong passwords.
    #[oai(
        path = "/auth/login/second-factor",
        method = "post",
        operation_id = "loginSecondFactor"
    )]
    async fn login_second_factor(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        body: Json<SecondFactorLogin>,
    ) -> Result<SignedIn, ApiError> {
        check_origin(req, &site)?;
        let tenant = site.tenant().ok_or_else(ApiError::not_found)?;
        let session = complete_second_factor(
            &state.db,
            &state.config.secret_key,
            tenant.id,
            &body.challenge,
            &body.code,
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
