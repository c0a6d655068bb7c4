//! Self-serve signup on the platform host, the owner's confirmation on the new ISP's own host,
//! and the first-run checklist in its console.

use chrono::{DateTime, Utc};
use kabinet_access::Permission;
use kabinet_access::login::LoginOutcome;
use kabinet_access::signup::confirm_owner;
use kabinet_provisioning::signup::{
    ChecklistItem, SignupRequest, SlugAvailability, onboarding_checklist, sign_up,
    slug_availability,
};
use kabinet_tenancy::{Locale as TenantLocale, Slug, publish_portal};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;

use super::Tag;
use super::dto::Locale;
use super::session::{LoginAnswered, login_answered};
use super::text::Text;
use crate::AppState;
use crate::auth::{StaffAuth, check_origin, client_info};
use crate::problem::ApiError;
use crate::site::SiteCtx;

pub struct SignupApi;

#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Availability {
    Available,
    /// Not a subdomain we accept: 1–32 lowercase letters, digits and hyphens.
    Malformed,
    /// Kept for the platform.
    Reserved,
    Taken,
}

#[derive(Debug, Object)]
pub struct SlugCheck {
    pub slug: String,
    pub availability: Availability,
    /// The portal's address if it were chosen: `<slug>.<platform domain>`.
    pub host: String,
}

/// The signup form.
#[derive(Debug, Object)]
pub struct SignupForm {
    /// The ISP's name as subscribers will see it.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub isp_name: Text,
    /// The subdomain: `<slug>.<platform domain>`.
    #[oai(validator(min_length = 1, max_length = 32))]
    pub slug: Text,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub owner_name: Text,
    #[oai(validator(min_length = 3, max_length = 254))]
    pub email: Text,
    /// At least 10 characters.
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub password: String,
    /// ISO 4217 (`RUB`, `EUR`, `KZT`…).
    #[oai(validator(min_length = 3, max_length = 3))]
    pub currency: Text,
    /// IANA (`Europe/Moscow`).
    #[oai(validator(min_length = 1, max_length = 64))]
    pub time_zone: Text,
    pub language: Locale,
    /// `starter`, `growth` or `pro`.
    #[oai(validator(min_length = 1, max_length = 32))]
    pub plan: Text,
}

#[derive(Debug, Object)]
pub struct SignupAccepted {
    pub slug: String,
    /// Where the owner signs in once the e-mail is confirmed.
    pub console_url: String,
    pub trial_ends_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
enum SignupAnswer {
    /// The ISP exists; its owner must follow the link sent to the e-mail address to sign in.
    #[oai(status = 202)]
    Accepted(Json<SignupAccepted>),
}

#[derive(Debug, Object)]
pub struct SignupConfirmation {
    /// The `token` from the confirmation link.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub token: Text,
}

#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ChecklistStep {
    Branding,
    Tariffs,
    Subscribers,
    Payments,
    Staff,
    Publish,
}

#[derive(Debug, Object)]
pub struct ChecklistEntry {
    pub step: ChecklistStep,
    pub done: bool,
}

/// A new ISP's first-run checklist.
#[derive(Debug, Object)]
pub struct Onboarding {
    pub items: Vec<ChecklistEntry>,
    pub published: bool,
    pub trial_ends_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
pub struct Plans {
    /// The codes, in the order offered.
    pub items: Vec<String>,
    /// The same plans with what they cost and include, for the form to show.
    pub offers: Vec<PlanOffer>,
}

/// A plan as a prospective ISP sees it: the price list without the operator's counts.
#[derive(Debug, Object)]
pub struct PlanOffer {
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
    pub features: Vec<super::saas_plans::Feature>,
}

fn platform_only(site: &SiteCtx) -> Result<(), ApiError> {
    match site.tenant() {
        None => Ok(()),
        Some(_) => Err(ApiError::not_found()),
    }
}

#[OpenApi(tag = "Tag::Platform")]
impl SignupApi {
    /// The SaaS plans a new ISP can choose.
    #[oai(
        path = "/signup/plans",
        method = "get",
        operation_id = "listSignupPlans"
    )]
    async fn plans(
        &self,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
    ) -> Result<Json<Plans>, ApiError> {
        platform_only(&site)?;
        let plans = kabinet_provisioning::signup::offered_plans(&state.db).await?;
        Ok(Json(Plans {
            items: plans.iter().map(|p| p.code.clone()).collect(),
            offers: plans
                .into_iter()
                .map(|p| PlanOffer {
                    code: p.code,
                    name: p.name,
                    price_per_subscriber: p.price_per_subscriber,
                    currency: p.currency.code().to_owned(),
                    max_subscribers: p.max_subscribers,
                    max_staff_seats: p.max_staff_seats,
                    features: p.features.into_iter().map(Into::into).collect(),
                })
                .collect(),
        }))
    }

    /// Whether a subdomain can be had, checked while the ISP types it.
    #[oai(
        path = "/signup/slug",
        method = "get",
        operation_id = "checkSignupSlug"
    )]
    async fn check_slug(
        &self,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        #[oai(validator(max_length = 64))] slug: Query<String>,
    ) -> Result<Json<SlugCheck>, ApiError> {
        platform_only(&site)?;
        let raw = slug.0.trim().to_lowercase();
        let availability = match slug_availability(&state.db, &raw).await? {
            SlugAvailability::Available => Availability::Available,
            SlugAvailability::Malformed => Availability::Malformed,
            SlugAvailability::Reserved => Availability::Reserved,
            SlugAvailability::Taken => Availability::Taken,
        };
        Ok(Json(SlugCheck {
            host: format!("{raw}.{}", state.config.platform_domain),
            slug: raw,
            availability,
        }))
    }

    /// Creates an ISP with a free trial and sends its owner a confirmation link. Nothing can be
    /// done with it until the owner follows the link. Limited per client address.
    #[oai(path = "/signup", method = "post", operation_id = "signUp")]
    async fn sign_up(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        body: Json<SignupForm>,
    ) -> Result<SignupAnswer, ApiError> {
        check_origin(req, &site)?;
        platform_only(&site)?;
        let form = body.0;
        let request = SignupRequest {
            isp_name: form.isp_name.0,
            slug: form.slug.0.trim().to_lowercase(),
            owner_name: form.owner_name.0,
            email: form.email.0,
            password: form.password,
            currency: form.currency.0.trim().to_uppercase(),
            time_zone: form.time_zone.0,
            language: match form.language {
                Locale::Ru => TenantLocale::Ru,
                Locale::En => TenantLocale::En,
            },
            plan: form.plan.0,
        };
        let base = |slug: &Slug| tenant_base_url(req, &state, slug);
        let started = sign_up(
            &state.db,
            &request,
            &state.config.platform_domain,
            base,
            &client_info(req, &state),
        )
        .await?;
        super::saas_billing::ensure_in_background(&state, started.tenant);
        Ok(SignupAnswer::Accepted(Json(SignupAccepted {
            console_url: format!("{}/console", tenant_base_url(req, &state, &started.slug)),
            slug: started.slug.to_string(),
            trial_ends_at: started.trial_ends_at,
        })))
    }

    /// Follows the link from the confirmation letter, on the new ISP's own host: the owner's
    /// account is activated and signed in. The link works once, for 48 hours.
    #[oai(
        path = "/auth/signup/confirm",
        method = "post",
        operation_id = "confirmSignup"
    )]
    async fn confirm(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        body: Json<SignupConfirmation>,
    ) -> Result<LoginAnswered, ApiError> {
        check_origin(req, &site)?;
        let tenant = site.tenant().ok_or_else(ApiError::not_found)?;
        let session = confirm_owner(
            &state.db,
            tenant.id,
            &body.token,
            state.config.sessions,
            &client_info(req, &state),
        )
        .await?;
        login_answered(&state, LoginOutcome::SignedIn(session)).await
    }

    /// The first-run checklist: branding, tariffs, subscribers, online payments, staff, publish.
    #[oai(
        path = "/console/onboarding",
        method = "get",
        operation_id = "getOnboarding"
    )]
    async fn onboarding(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<Onboarding>, ApiError> {
        let staff = auth.0;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let checklist = onboarding_checklist(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(Onboarding {
            items: checklist
                .items
                .into_iter()
                .map(|(item, done)| ChecklistEntry {
                    step: match item {
                        ChecklistItem::Branding => ChecklistStep::Branding,
                        ChecklistItem::Tariffs => ChecklistStep::Tariffs,
                        ChecklistItem::Subscribers => ChecklistStep::Subscribers,
                        ChecklistItem::Payments => ChecklistStep::Payments,
                        ChecklistItem::Staff => ChecklistStep::Staff,
                        ChecklistItem::Publish => ChecklistStep::Publish,
                    },
                    done,
                })
                .collect(),
            published: checklist.published,
            trial_ends_at: checklist.trial_ends_at,
        }))
    }

    /// Opens the portal to subscribers (the checklist's last step). Owner only; audited.
    #[oai(
        path = "/console/onboarding/publish",
        method = "post",
        operation_id = "publishPortal"
    )]
    async fn publish(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<Onboarding>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        if publish_portal(&mut tx).await? {
            kabinet_access::record(
                &mut tx,
                kabinet_access::AuditEntry {
                    staff: Some(staff.id),
                    action: "portal.publish",
                    target: format!("tenant:{}", staff.tenant.slug),
                    details: json!({ "before": { "published": false }, "after": { "published": true } }),
                },
                &client_info(req, &state),
            )
            .await?;
        }
        tx.commit().await?;
        self.onboarding(state, StaffAuth(staff)).await
    }
}

/// The new ISP's own address, reached the way this request reached the platform host (same
/// scheme and port), so the confirmation link works in development and behind TLS alike.
fn tenant_base_url(req: &Request, state: &AppState, slug: &Slug) -> String {
    public_base_url(
        req,
        state,
        &format!("{slug}.{}", state.config.platform_domain),
    )
}

/// `https://<host>` behind TLS; otherwise `http://<host>` with the port this request came to.
pub(super) fn public_base_url(req: &Request, state: &AppState, host: &str) -> String {
    if state.config.secure_cookies {
        return format!("https://{host}");
    }
    let port = req
        .headers()
        .get(poem::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.rsplit_once(':'))
        .map(|(_, port)| port)
        .filter(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    match port {
        Some(port) => format!("http://{host}:{port}"),
        None => format!("http://{host}"),
    }
}
