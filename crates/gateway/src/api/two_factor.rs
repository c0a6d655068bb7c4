//! Two-factor authentication of the signed-in principal: the same five operations for a
//! subscriber (`/me/two-factor…`) and a staff member (`/console/me/two-factor…`, audited).

use chrono::{DateTime, Utc};
use kabinet_access::audit::{AuditEntry, record};
use kabinet_access::{Account, two_factor};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;

use super::Tag;
use super::text::Text;
use crate::AppState;
use crate::auth::{StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

pub struct PortalTwoFactorApi;
pub struct ConsoleTwoFactorApi;

/// Secrets and recovery codes must not linger in any cache.
const NO_STORE: &str = "no-store";

#[derive(Debug, Object)]
pub struct TwoFactorStatus {
    /// Sign-in asks for a code from the authenticator app.
    pub enabled: bool,
    #[oai(skip_serializing_if_is_none)]
    pub enabled_at: Option<DateTime<Utc>>,
    /// Unused recovery codes (0 when off).
    pub recovery_codes_left: i64,
}

impl From<two_factor::TwoFactorStatus> for TwoFactorStatus {
    fn from(s: two_factor::TwoFactorStatus) -> Self {
        Self {
            enabled: s.enabled,
            enabled_at: s.enabled_at,
            recovery_codes_left: s.recovery_codes_left,
        }
    }
}

#[derive(Debug, Object)]
pub struct PasswordConfirmation {
    /// The current password, asked again before the second factor changes.
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub password: Text,
}

#[derive(Debug, Object)]
pub struct TwoFactorCode {
    /// Six digits from the authenticator app.
    #[oai(validator(min_length = 1, max_length = 64))]
    pub code: Text,
}

/// A new authenticator secret, shown this once.
#[derive(Debug, Object)]
pub struct TwoFactorEnrollment {
    /// The secret in base32, to type into the app by hand.
    pub secret: String,
    /// `otpauth://totp/…`, what the QR code holds.
    pub otpauth_uri: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
}

/// Ten single-use recovery codes, shown this once: each signs in once in place of a code from
/// the app.
#[derive(Debug, Object)]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

#[derive(ApiResponse)]
enum EnrollmentStarted {
    /// Scan the QR code (or type the secret), then confirm with a code from the app.
    #[oai(status = 201)]
    Created(
        Json<TwoFactorEnrollment>,
        #[oai(header = "Cache-Control")] String,
    ),
}

#[derive(ApiResponse)]
enum CodesIssued {
    /// Two-factor authentication is on with these recovery codes.
    #[oai(status = 200)]
    Ok(Json<RecoveryCodes>, #[oai(header = "Cache-Control")] String),
}

#[derive(ApiResponse)]
enum Disabled {
    /// Two-factor authentication is off.
    #[oai(status = 204)]
    Done,
}

/// One audited change by a staff member to their own second factor.
fn staff_entry(staff: &crate::auth::Staff, action: &'static str) -> AuditEntry<'static> {
    AuditEntry {
        staff: Some(staff.id),
        action,
        target: format!("staff:{}", staff.id),
        details: json!({}),
    }
}

async fn get_status(
    state: &AppState,
    tenant: kabinet_core::TenantId,
    account: Account,
) -> Result<Json<TwoFactorStatus>, ApiError> {
    let mut tx = state.db.tenant_tx(tenant).await?;
    let status = two_factor::status(&mut tx, account).await?;
    tx.commit().await?;
    Ok(Json(status.into()))
}

fn enrollment(e: two_factor::Enrollment) -> EnrollmentStarted {
    EnrollmentStarted::Created(
        Json(TwoFactorEnrollment {
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
            qr_svg: e.qr_svg,
        }),
        NO_STORE.into(),
    )
}

fn codes(codes: Vec<String>) -> CodesIssued {
    CodesIssued::Ok(Json(RecoveryCodes { codes }), NO_STORE.into())
}

#[OpenApi(prefix_path = "/me", tag = "Tag::Portal")]
impl PortalTwoFactorApi {
    /// Whether sign-in asks for a code, and how many recovery codes are left.
    #[oai(path = "/two-factor", method = "get", operation_id = "getMyTwoFactor")]
    async fn status(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<TwoFactorStatus>, ApiError> {
        let me = auth.0;
        get_status(&state, me.tenant.id, Account::Subscriber(me.id)).await
    }

    /// Starts setting up an authenticator app (the password again): a new secret, shown once.
    /// Starting again replaces an unconfirmed one.
    #[oai(
        path = "/two-factor/enrollment",
        method = "post",
        operation_id = "startMyTwoFactor"
    )]
    async fn start(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<PasswordConfirmation>,
    ) -> Result<EnrollmentStarted, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let started = two_factor::start_enrollment(
            &mut tx,
            &state.config.secret_key,
            Account::Subscriber(me.id),
            &body.password,
            &me.tenant.display_name,
        )
        .await?;
        tx.commit().await?;
        Ok(enrollment(started))
    }

    /// Turns two-factor authentication on with a first code from the app; returns the recovery
    /// codes, shown once.
    #[oai(
        path = "/two-factor/confirm",
        method = "post",
        operation_id = "confirmMyTwoFactor"
    )]
    async fn confirm(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<TwoFactorCode>,
    ) -> Result<CodesIssued, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let issued = two_factor::confirm_enrollment(
            &mut tx,
            &state.config.secret_key,
            Account::Subscriber(me.id),
            &body.code,
        )
        .await?;
        tx.commit().await?;
        Ok(codes(issued))
    }

    /// Turns two-factor authentication off (the password again).
    #[oai(
        path = "/two-factor/disable",
        method = "post",
        operation_id = "disableMyTwoFactor"
    )]
    async fn disable(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<PasswordConfirmation>,
    ) -> Result<Disabled, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        two_factor::disable(&mut tx, Account::Subscriber(me.id), &body.password).await?;
        tx.commit().await?;
        Ok(Disabled::Done)
    }

    /// New recovery codes for a code from the app; the old ones stop working.
    #[oai(
        path = "/two-factor/recovery-codes",
        method = "post",
        operation_id = "regenerateMyRecoveryCodes"
    )]
    async fn regenerate(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<TwoFactorCode>,
    ) -> Result<CodesIssued, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let issued = two_factor::regenerate_recovery_codes(
            &mut tx,
            &state.config.secret_key,
            Account::Subscriber(me.id),
            &body.code,
        )
        .await?;
        tx.commit().await?;
        Ok(codes(issued))
    }
}

#[OpenApi(prefix_path = "/console/me", tag = "Tag::Console")]
impl ConsoleTwoFactorApi {
    /// Whether the staff member's sign-in asks for a code, and how many recovery codes are left.
    #[oai(
        path = "/two-factor",
        method = "get",
        operation_id = "getStaffTwoFactor"
    )]
    async fn status(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<TwoFactorStatus>, ApiError> {
        let staff = auth.0;
        get_status(&state, staff.tenant.id, Account::Staff(staff.id)).await
    }

    /// Starts setting up an authenticator app (the password again): a new secret, shown once.
    #[oai(
        path = "/two-factor/enrollment",
        method = "post",
        operation_id = "startStaffTwoFactor"
    )]
    async fn start(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<PasswordConfirmation>,
    ) -> Result<EnrollmentStarted, ApiError> {
        let staff = auth.0;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let started = two_factor::start_enrollment(
            &mut tx,
            &state.config.secret_key,
            Account::Staff(staff.id),
            &body.password,
            &staff.tenant.display_name,
        )
        .await?;
        tx.commit().await?;
        Ok(enrollment(started))
    }

    /// Turns two-factor authentication on with a first code from the app (audited); returns the
    /// recovery codes, shown once.
    #[oai(
        path = "/two-factor/confirm",
        method = "post",
        operation_id = "confirmStaffTwoFactor"
    )]
    async fn confirm(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<TwoFactorCode>,
    ) -> Result<CodesIssued, ApiError> {
        let staff = auth.0;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let issued = two_factor::confirm_enrollment(
            &mut tx,
            &state.config.secret_key,
            Account::Staff(staff.id),
            &body.code,
        )
        .await?;
        record(
            &mut tx,
            staff_entry(&staff, "two_factor.enable"),
            &staff.client,
        )
        .await?;
        tx.commit().await?;
        Ok(codes(issued))
    }

    /// Turns two-factor authentication off (the password again; audited).
    #[oai(
        path = "/two-factor/disable",
        method = "post",
        operation_id = "disableStaffTwoFactor"
    )]
    async fn disable(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<PasswordConfirmation>,
    ) -> Result<Disabled, ApiError> {
        let staff = auth.0;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        two_factor::disable(&mut tx, Account::Staff(staff.id), &body.password).await?;
        record(
            &mut tx,
            staff_entry(&staff, "two_factor.disable"),
            &staff.client,
        )
        .await?;
        tx.commit().await?;
        Ok(Disabled::Done)
    }

    /// New recovery codes for a code from the app; the old ones stop working (audited).
    #[oai(
        path = "/two-factor/recovery-codes",
        method = "post",
        operation_id = "regenerateStaffRecoveryCodes"
    )]
    async fn regenerate(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<TwoFactorCode>,
    ) -> Result<CodesIssued, ApiError> {
        let staff = auth.0;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let issued = two_factor::regenerate_recovery_codes(
            &mut tx,
            &state.config.secret_key,
            Account::Staff(staff.id),
            &body.code,
        )
        .await?;
        record(
            &mut tx,
            staff_entry(&staff, "two_factor.recovery_codes"),
            &staff.client,
        )
        .await?;
        tx.commit().await?;
        Ok(codes(issued))
    }
}
