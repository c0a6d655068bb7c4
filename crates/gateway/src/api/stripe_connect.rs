//! Card payments in the console: the ISP connects its own Stripe account through Connect
//! onboarding (`/console/settings/payments…`, `settings.manage`; every change audited).

use kabinet_access::Permission;
use kabinet_payments::{
    ConnectProfile, ConnectState, OnboardingReturn, begin_onboarding, connect_state,
    refresh_connect_state,
};
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use serde_json::json;

use super::Tag;
use super::text::Text;
use crate::AppState;
use crate::auth::{StaffAuth, check_origin};
use crate::problem::ApiError;
use crate::site::SiteCtx;

pub struct StripeConnectApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = StripeConnectApi;

pub fn apis() -> Apis {
    StripeConnectApi
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum CardPaymentsState {
    /// No Stripe account yet.
    NotConnected,
    /// The account exists; Stripe still needs the ISP to finish onboarding.
    Pending,
    /// Subscribers can pay by card.
    Enabled,
}

/// Where the ISP stands with card payments.
#[derive(Debug, Object)]
pub struct CardPayments {
    pub state: CardPaymentsState,
    /// Card payments need Stripe configured on the platform; without it nothing can be started.
    pub platform_ready: bool,
    #[oai(skip_serializing_if_is_none)]
    pub account_id: Option<String>,
    /// The platform's fee on each payment, in basis points (150 = 1.5 %).
    #[oai(skip_serializing_if_is_none)]
    pub application_fee_bps: Option<i32>,
}

/// Starting onboarding: what Stripe needs to open the account.
#[derive(Debug, Object)]
pub struct StartOnboarding {
    /// The ISP's country, ISO 3166-1 alpha-2 (`RU`, `KZ`, `DE` …).
    #[oai(validator(pattern = "^[A-Za-z]{2}$"))]
    pub country: Text,
}

/// Stripe's hosted onboarding form: send the owner's browser there.
#[derive(Debug, Object)]
pub struct OnboardingLink {
    pub url: String,
}

fn view(state: ConnectState, platform_ready: bool) -> CardPayments {
    let (state, connection) = match state {
        ConnectState::NotConnected => (CardPaymentsState::NotConnected, None),
        ConnectState::Pending(c) => (CardPaymentsState::Pending, Some(c)),
        ConnectState::Enabled(c) => (CardPaymentsState::Enabled, Some(c)),
    };
    CardPayments {
        state,
        platform_ready,
        account_id: connection.as_ref().map(|c| c.account_id.clone()),
        application_fee_bps: connection.map(|c| c.application_fee_bps),
    }
}

fn state_name(state: &ConnectState) -> &'static str {
    match state {
        ConnectState::NotConnected => "not_connected",
        ConnectState::Pending(_) => "pending",
        ConnectState::Enabled(_) => "enabled",
    }
}

#[OpenApi(prefix_path = "/console/settings/payments", tag = "Tag::Console")]
impl StripeConnectApi {
    /// Whether subscribers can pay by card, and with which Stripe account.
    #[oai(path = "/", method = "get", operation_id = "getCardPayments")]
    async fn card_payments(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<CardPayments>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let current = connect_state(&state.db, staff.tenant.id).await?;
        Ok(Json(view(current, state.stripe.is_some())))
    }

    /// Opens Stripe's hosted onboarding for the ISP's own Stripe account (created on the first
    /// press, resumed on later ones). The answer is a one-time URL; Stripe sends the owner back
    /// to `/console/settings/payments`. 409 `stripe_already_connected` once card payments work.
    #[oai(
        path = "/onboarding",
        method = "post",
        operation_id = "startStripeOnboarding"
    )]
    async fn start(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        auth: StaffAuth,
        body: Json<StartOnboarding>,
    ) -> Result<Json<OnboardingLink>, ApiError> {
        check_origin(req, &site)?;
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let stripe = state
            .stripe
            .as_deref()
            .ok_or(kabinet_payments::PaymentsError::Unavailable)?;
        let tenant = &staff.tenant;
        let page = format!(
            "{}/console/settings/payments",
            super::password_reset::base_url(req, &state, &site)
        );
        let profile = ConnectProfile {
            country: body.0.country.0.to_ascii_uppercase(),
            business_name: tenant.display_name.clone(),
            email: tenant.branding.support_email.clone(),
            // The operator agrees a fee with each ISP and sets it in the ISP's manifest
            // (`[payments] application_fee_bps`); a self-connected account starts without one.
            application_fee_bps: 0,
        };
        let back = OnboardingReturn {
            return_url: format!("{page}?stripe=return"),
            refresh_url: format!("{page}?stripe=refresh"),
        };
        let url = begin_onboarding(&state.db, stripe, tenant.id, &profile, &back).await?;
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        staff
            .audit(
                &mut tx,
                "payments.stripe_onboarding_started",
                "stripe".into(),
                json!({ "country": profile.country }),
            )
            .await?;
        tx.commit().await?;
        Ok(Json(OnboardingLink { url }))
    }

    /// Asks Stripe where the ISP's account stands now (the owner just came back from
    /// onboarding) and records it; audited when it changed.
    #[oai(
        path = "/refresh",
        method = "post",
        operation_id = "refreshCardPayments"
    )]
    async fn refresh(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        auth: StaffAuth,
    ) -> Result<Json<CardPayments>, ApiError> {
        check_origin(req, &site)?;
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let Some(stripe) = state.stripe.as_deref() else {
            let current = connect_state(&state.db, staff.tenant.id).await?;
            return Ok(Json(view(current, false)));
        };
        let before = connect_state(&state.db, staff.tenant.id).await?;
        let after = refresh_connect_state(&state.db, stripe, staff.tenant.id).await?;
        if state_name(&before) != state_name(&after) {
            let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
            staff
                .audit(
                    &mut tx,
                    "payments.stripe_state_changed",
                    "stripe".into(),
                    json!({ "before": state_name(&before), "after": state_name(&after) }),
                )
                .await?;
            tx.commit().await?;
        }
        Ok(Json(view(after, true)))
    }
}
