use kabinet_access::password_reset::{
    Audience, Language, ResetSite, complete_reset, request_reset,
};
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::Tag;
use super::dto::PrincipalKind;
use super::text::Text;
use crate::AppState;
use crate::auth::{check_origin, client_info};
use crate::problem::ApiError;
use crate::site::SiteCtx;

/// Forgotten passwords: a link by e-mail, then a new password.
pub struct PasswordResetApi;

#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ResetAudience {
    /// A subscriber, by account number or e-mail.
    Subscriber,
    /// A staff member, by e-mail.
    Staff,
}

#[derive(Debug, Object)]
pub struct PasswordResetRequest {
    pub audience: ResetAudience,
    /// Subscribers: account number or e-mail. Staff: e-mail.
    #[oai(validator(min_length = 1, max_length = 254))]
    pub login: Text,
}

#[derive(Debug, Object)]
pub struct PasswordResetCompletion {
    /// The `token` of the link in the e-mail.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub token: Text,
    /// 10 to 1024 characters; not the current password, account number, e-mail or phone.
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub new_password: Text,
}

#[derive(Debug, Object)]
pub struct PasswordResetDone {
    /// Whose password it was: where to sign in now (the portal or the console).
    pub kind: PrincipalKind,
    /// Sessions that were ended (all of the account's).
    pub sessions_ended: u64,
}

#[derive(ApiResponse)]
enum ResetRequested {
    /// Taken. If the account exists and has an e-mail address, a link is on its way; the answer
    /// is the same when it does not.
    #[oai(status = 202)]
    Accepted,
}

/// `https://<this host>` (or `http://<host>:<port>` when the app is served without TLS, as in
/// development): where the link in the letter leads. The host is this site's own (it resolved to
/// this tenant); behind TLS the port is dropped, so a forged Host header cannot redirect the
/// link to another port.
pub(crate) fn base_url(req: &Request, state: &AppState, site: &SiteCtx) -> String {
    super::signup::public_base_url(req, state, site.host.as_str())
}

#[OpenApi(tag = "Tag::Session")]
impl PasswordResetApi {
    /// Sends a password reset link by e-mail. Always answers 202 the same way, whether or not the
    /// account exists or has an e-mail address; limited per login and per address (429).
    #[oai(
        path = "/auth/password-reset",
        method = "post",
        operation_id = "requestPasswordReset"
    )]
    async fn request(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        body: Json<PasswordResetRequest>,
    ) -> Result<ResetRequested, ApiError> {
        check_origin(req, &site)?;
        let tenant = site.tenant().ok_or_else(ApiError::not_found)?;
        let reset_site = ResetSite {
            base_url: base_url(req, &state, &site),
            isp_name: tenant.display_name.clone(),
            support_email: tenant.branding.support_email.clone(),
            support_phone: tenant.branding.support_phone.clone(),
            language: match tenant.default_locale {
                kabinet_tenancy::Locale::Ru => Language::Ru,
                kabinet_tenancy::Locale::En => Language::En,
            },
        };
        request_reset(
            &state.db,
            tenant.id,
            match body.audience {
                ResetAudience::Subscriber => Audience::Subscriber,
                ResetAudience::Staff => Audience::Staff,
            },
            &body.login,
            &reset_site,
            &client_info(req, &state),
            state.config.password_reset,
        )
        .await?;
        Ok(ResetRequested::Accepted)
    }

    /// Sets a new password with the token from the e-mail. The token works once and for 30
    /// minutes; every session of the account ends. An unknown, expired or used token is
    /// `invalid_reset_token`.
    #[oai(
        path = "/auth/password-reset/complete",
        method = "post",
        operation_id = "completePasswordReset"
    )]
    async fn complete(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        body: Json<PasswordResetCompletion>,
    ) -> Result<Json<PasswordResetDone>, ApiError> {
        check_origin(req, &site)?;
        let tenant = site.tenant().ok_or_else(ApiError::not_found)?;
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        let done = complete_reset(
            &mut tx,
            &body.token,
            &body.new_password,
            &client_info(req, &state),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(PasswordResetDone {
            kind: match done.audience {
                Audience::Subscriber => PrincipalKind::Subscriber,
                Audience::Staff => PrincipalKind::Staff,
            },
            sessions_ended: done.sessions_ended,
        }))
    }
}
