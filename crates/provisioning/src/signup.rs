//! Self-serve signup: an ISP creates itself on the platform host. The wizard's answers become a
//! [`Manifest`] applied by [`apply`] — the same code path as `tenants/*.toml` — and then one
//! transaction starts the trial, keeps the portal unpublished until the ISP is ready, and
//! invites the owner (inactive until they confirm their e-mail; see `kabinet_access::signup`).

use std::path::PathBuf;

use chrono::Utc;
use kabinet_access::signup::{NewOwner, check_owner, invite_owner, throttle_signup};
use kabinet_access::{AccessError, ClientInfo};
use kabinet_core::{Currency, TenantId};
use kabinet_db::{Database, sqlx};
use kabinet_mail::Language;
use kabinet_tenancy::plans::{PlanError, SaasPlan, check_offered_plan, list_plans};
use kabinet_tenancy::{Locale, Slug, SlugError, find_tenant_by_slug};

use crate::apply::{ApplyError, create};
use crate::manifest::{Manifest, ParsedManifest, parse_manifest};

/// Days of free trial a self-serve ISP gets.
pub const TRIAL_DAYS: i64 = 14;

/// The SaaS plans a new ISP may choose: the operator's price list, archived plans aside.
pub async fn offered_plans(db: &Database) -> Result<Vec<SaasPlan>, SignupError> {
    let mut tx = db.platform_tx().await?;
    let plans = list_plans(tx.conn(), false).await.map_err(plan_error)?;
    tx.commit().await?;
    Ok(plans)
}

fn plan_error(e: PlanError) -> SignupError {
    match e {
        PlanError::Db(db) => SignupError::Db(db),
        other => invalid("plan", other.to_string()),
    }
}

/// Whether a subdomain can be had, as the signup form checks it while the ISP types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlugAvailability {
    Available,
    /// Not a DNS label we accept (letters, digits, hyphens; 1–32; no leading/trailing hyphen).
    Malformed,
    /// Kept for the platform (`admin`, `www`, `api`, …).
    Reserved,
    Taken,
}

pub async fn slug_availability(db: &Database, raw: &str) -> Result<SlugAvailability, SignupError> {
    let slug = match Slug::parse(raw.trim()) {
        Ok(slug) => slug,
        Err(SlugError::Reserved(_)) => return Ok(SlugAvailability::Reserved),
        Err(SlugError::Malformed(_)) => return Ok(SlugAvailability::Malformed),
    };
    let mut tx = db.platform_tx().await?;
    // A deleted tenant's slug stays reserved for a while (`deletion::SLUG_RESERVED_DAYS`).
    let taken = find_tenant_by_slug(tx.conn(), &slug).await?.is_some()
        || crate::deletion::slug_reserved(tx.conn(), slug.as_str()).await?;
    tx.commit().await?;
    Ok(if taken {
        SlugAvailability::Taken
    } else {
        SlugAvailability::Available
    })
}

/// The signup form.
#[derive(Clone, Debug)]
pub struct SignupRequest {
    pub isp_name: String,
    pub slug: String,
    pub owner_name: String,
    pub email: String,
    pub password: String,
    /// ISO 4217, e.g. `RUB`.
    pub currency: String,
    /// IANA, e.g. `Europe/Moscow`.
    pub time_zone: String,
    pub language: Locale,
    pub plan: String,
}

/// A signup that waits for its owner to confirm the e-mail.
#[derive(Clone, Debug)]
pub struct SignupStarted {
    pub tenant: TenantId,
    pub slug: Slug,
    pub trial_ends_at: chrono::DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the subdomain {0} is already taken")]
    SlugTaken(String),
    #[error("the subdomain {0} is reserved for the platform")]
    SlugReserved(String),
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Tenancy(#[from] kabinet_tenancy::TenancyError),
    #[error("creating the tenant: {0}")]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Db(#[from] kabinet_db::DbError),
}

impl From<sqlx::Error> for SignupError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> SignupError {
    SignupError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// Everything the form says, checked before anything is written.
fn validate(req: &SignupRequest) -> Result<(Slug, Manifest), SignupError> {
    let slug = Slug::parse(req.slug.trim()).map_err(|e| match e {
        SlugError::Reserved(s) => SignupError::SlugReserved(s),
        SlugError::Malformed(_) => invalid(
            "slug",
            "use 1–32 lowercase letters, digits and hyphens, not starting or ending with a hyphen",
        ),
    })?;
    let name = req.isp_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("isp_name", "must be 1 to 200 characters"));
    }
    let currency = Currency::parse(req.currency.trim())
        .map_err(|_| invalid("currency", "must be an ISO 4217 code such as RUB"))?;
    if req.time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(invalid(
            "time_zone",
            "must be an IANA time zone such as Europe/Moscow",
        ));
    }
    check_owner(&owner(req, "", name))?;
    // Through the manifest parser, like a file in tenants/: every default and check applies.
    let mut table = toml::Table::new();
    table.insert("slug".into(), slug.as_str().into());
    table.insert("display_name".into(), name.into());
    table.insert("saas_plan".into(), req.plan.as_str().into());
    table.insert("currency".into(), currency.code().into());
    table.insert("default_locale".into(), req.language.as_str().into());
    table.insert("time_zone".into(), req.time_zone.as_str().into());
    let src = toml::to_string(&table).map_err(|e| invalid("manifest", e.to_string()))?;
    let parsed = parse_manifest(&PathBuf::from(format!("signup/{slug}.toml")), &src)
        .map_err(|e| invalid("manifest", e.to_string()))?;
    let manifest = parsed.manifest;
    Ok((slug, manifest))
}

fn owner<'a>(req: &'a SignupRequest, base_url: &'a str, isp_name: &'a str) -> NewOwner<'a> {
    NewOwner {
        email: &req.email,
        display_name: &req.owner_name,
        password: &req.password,
        language: match req.language {
            Locale::Ru => Language::Ru,
            Locale::En => Language::En,
        },
        isp_name,
        base_url,
    }
}

/// Creates the ISP and invites its owner. `base_url` gives the ISP's own address for the
/// confirmation link (`http://acme.kabinet.example`). Throttled per client address.
pub async fn sign_up(
    db: &Database,
    req: &SignupRequest,
    platform_domain: &str,
    base_url: impl Fn(&Slug) -> String,
    client: &ClientInfo,
) -> Result<SignupStarted, SignupError> {
    throttle_signup(db, client).await?;
    let (slug, manifest) = validate(req)?;
    // The same check a manifest's new tenant passes (`apply`), asked first for a field error.
    let mut tx = db.platform_tx().await?;
    check_offered_plan(tx.conn(), &manifest.saas_plan)
        .await
        .map_err(plan_error)?;
    tx.commit().await?;
    if slug_availability(db, slug.as_str()).await? == SlugAvailability::Taken {
        return Err(SignupError::SlugTaken(slug.to_string()));
    }
    let parsed = ParsedManifest {
        file: PathBuf::from(format!("signup/{slug}.toml")),
        manifest,
        logo_data_url: None,
    };
    // `create` refuses a slug that exists by now (a concurrent signup won the race).
    let tenant = match create(db, &parsed, platform_domain).await {
        Ok(tenant) => tenant,
        Err(e) => {
            return Err(
                if slug_availability(db, slug.as_str()).await? == SlugAvailability::Taken {
                    SignupError::SlugTaken(slug.to_string())
                } else {
                    e.into()
                },
            );
        }
    };
    match finish(db, tenant, req, &slug, &base_url(&slug), client).await {
        Ok(started) => Ok(started),
        Err(e) => {
            // The tenant was created but its owner could not be: take it away again, so the
            // subdomain is free for the retry (nothing else references a minute-old tenant).
            let mut tx = db.platform_tx().await?;
            sqlx::query("DELETE FROM tenants WHERE id = $1")
                .bind(tenant.as_uuid())
                .execute(tx.conn())
                .await?;
            tx.commit().await?;
            Err(e)
        }
    }
}

async fn finish(
    db: &Database,
    tenant: TenantId,
    req: &SignupRequest,
    slug: &Slug,
    base_url: &str,
    client: &ClientInfo,
) -> Result<SignupStarted, SignupError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let trial_ends_at: chrono::DateTime<Utc> = sqlx::query_scalar(
        "UPDATE tenants SET published_at = NULL, signed_up_at = now(), \
           trial_ends_at = now() + make_interval(days => $2::int), updated_at = now() \
         WHERE id = $1 RETURNING trial_ends_at",
    )
    .bind(tenant.as_uuid())
    .bind(TRIAL_DAYS as i32)
    .fetch_one(tx.conn())
    .await?;
    invite_owner(&mut tx, &owner(req, base_url, req.isp_name.trim()), client).await?;
    tx.commit().await?;
    Ok(SignupStarted {
        tenant,
        slug: slug.clone(),
        trial_ends_at,
    })
}

/// A step of the first-run checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChecklistItem {
    /// A logo or the ISP's own colours.
    Branding,
    Tariffs,
    /// Subscribers created or imported.
    Subscribers,
    /// A Stripe account connected for card payments.
    Payments,
    /// A colleague besides the owner.
    Staff,
    /// The portal opened to subscribers.
    Publish,
}

#[derive(Clone, Debug)]
pub struct Checklist {
    pub items: Vec<(ChecklistItem, bool)>,
    pub published: bool,
    pub trial_ends_at: Option<chrono::DateTime<Utc>>,
}

/// Where the tenant `tx` is scoped to stands in its first-run checklist. One statement.
pub async fn onboarding_checklist(tx: &mut kabinet_db::TenantTx) -> Result<Checklist, SignupError> {
    let (branding, tariffs, subscribers, payments, staff, published, trial_ends_at): (
        bool,
        bool,
        bool,
        bool,
        bool,
        bool,
        Option<chrono::DateTime<Utc>>,
    ) = sqlx::query_as(
        "SELECT COALESCE(t.branding->>'logo_url', t.branding->>'primary_color') IS NOT NULL, \
           EXISTS (SELECT 1 FROM tariffs WHERE tenant_id = t.id), \
           EXISTS (SELECT 1 FROM subscribers WHERE tenant_id = t.id), \
           EXISTS (SELECT 1 FROM stripe_accounts WHERE tenant_id = t.id AND charges_enabled), \
           (SELECT count(*) FROM staff WHERE tenant_id = t.id AND active) > 1, \
           t.published_at IS NOT NULL, t.trial_ends_at \
         FROM tenants t WHERE t.id = $1",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_one(tx.conn())
    .await?;
    Ok(Checklist {
        items: vec![
            (ChecklistItem::Branding, branding),
            (ChecklistItem::Tariffs, tariffs),
            (ChecklistItem::Subscribers, subscribers),
            (ChecklistItem::Payments, payments),
            (ChecklistItem::Staff, staff),
            (ChecklistItem::Publish, published),
        ],
        published,
        trial_ends_at,
    })
}
