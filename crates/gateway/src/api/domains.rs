//! Custom domains in the console (`/console/settings/domains…`): add one, read the TXT record to
//! create, check it now, remove it. A check that finds no proof is an answer (200 with the
//! reason), not an error.

use chrono::{DateTime, Utc};
use kabinet_access::Permission;
use kabinet_tenancy::domains::{
    self, CheckFailure, CustomDomain, DomainName, DomainStatus as Status, PROOF_GRACE_DAYS,
};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;

use super::Tag;
use super::text::Text;
use crate::AppState;
use crate::auth::{Staff, StaffAuth};
use crate::problem::ApiError;

pub struct DomainsApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = DomainsApi;

pub fn apis() -> Apis {
    DomainsApi
}

#[derive(Debug, Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum DomainStatus {
    /// Added, not checked yet.
    Pending,
    /// Proven by the TXT record; the portal is served at this domain.
    Verified,
    /// The last check did not find the proof (see `failure`).
    Failed,
}

impl From<Status> for DomainStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Pending => Self::Pending,
            Status::Verified => Self::Verified,
            Status::Failed => Self::Failed,
        }
    }
}

/// Why the last check failed.
#[derive(Debug, Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum DomainCheckFailure {
    /// The TXT record's name does not exist in DNS (NXDOMAIN).
    Nxdomain,
    /// The name exists but has no TXT record.
    NoRecord,
    /// TXT records exist, none with the expected value (`failure_detail` lists what was found).
    WrongValue,
    /// The DNS server did not answer in time.
    Timeout,
    /// The DNS lookup failed otherwise.
    ResolverError,
}

impl From<CheckFailure> for DomainCheckFailure {
    fn from(f: CheckFailure) -> Self {
        match f {
            CheckFailure::Nxdomain => Self::Nxdomain,
            CheckFailure::NoRecord => Self::NoRecord,
            CheckFailure::WrongValue => Self::WrongValue,
            CheckFailure::Timeout => Self::Timeout,
            CheckFailure::ResolverError => Self::ResolverError,
        }
    }
}

/// One custom domain and what the ISP must do to prove it.
#[derive(Debug, Object)]
pub struct CustomDomainItem {
    /// Canonical: lower-case ASCII (punycode for internationalised names).
    pub host: String,
    /// The same name as people read it (Unicode).
    pub display_host: String,
    pub status: DomainStatus,
    /// The TXT record to create: its fully qualified name…
    pub txt_name: String,
    /// …and its exact value.
    pub txt_value: String,
    #[oai(skip_serializing_if_is_none)]
    pub verified_at: Option<DateTime<Utc>>,
    /// When the TXT record was last looked up.
    #[oai(skip_serializing_if_is_none)]
    pub checked_at: Option<DateTime<Utc>>,
    /// Why the last lookup did not prove the domain (absent when it did, or none ran).
    #[oai(skip_serializing_if_is_none)]
    pub failure: Option<DomainCheckFailure>,
    #[oai(skip_serializing_if_is_none)]
    pub failure_detail: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A verified domain whose proof the daily re-check no longer finds: since when. It is still
    /// served until `serving_until`.
    #[oai(skip_serializing_if_is_none)]
    pub failing_since: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub serving_until: Option<DateTime<Utc>>,
}

impl From<CustomDomain> for CustomDomainItem {
    fn from(d: CustomDomain) -> Self {
        Self {
            host: d.host,
            display_host: d.unicode,
            status: d.status.into(),
            txt_name: d.challenge.name,
            txt_value: d.challenge.value,
            verified_at: d.verified_at,
            checked_at: d.checked_at,
            failure: d.failure.map(Into::into),
            failure_detail: d.failure_detail,
            created_at: d.created_at,
            failing_since: d.failing_since.filter(|_| d.verified_at.is_some()),
            serving_until: d
                .failing_since
                .filter(|_| d.verified_at.is_some())
                .map(|since| since + chrono::Duration::days(PROOF_GRACE_DAYS)),
        }
    }
}

#[derive(Debug, Object)]
pub struct CustomDomainList {
    pub items: Vec<CustomDomainItem>,
    /// Where a custom domain should point (a CNAME to this host): the ISP's platform address.
    pub cname_target: String,
    pub max_domains: i64,
}

#[derive(Debug, Object)]
pub struct AddCustomDomain {
    /// E.g. `lk.provider.ru` or `кабинет.провайдер.рф`.
    #[oai(validator(max_length = 300))]
    pub domain: Text,
}

#[derive(ApiResponse)]
enum DomainAdded {
    #[oai(status = 201)]
    Created(Json<CustomDomainItem>),
}

#[derive(ApiResponse)]
enum DomainRemoved {
    #[oai(status = 204)]
    Removed,
}

fn parse(state: &AppState, raw: &str) -> Result<DomainName, ApiError> {
    DomainName::parse(raw, &state.config.platform_domain)
        .map_err(|e| domains::DomainError::from(e).into())
}

async fn audit(
    tx: &mut kabinet_db::TenantTx,
    staff: &Staff,
    action: &str,
    host: &str,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    staff
        .audit(tx, action, format!("domain:{host}"), details)
        .await
}

#[OpenApi(prefix_path = "/console/settings", tag = "Tag::Console")]
impl DomainsApi {
    /// The ISP's custom domains with their verification state, and where to point them.
    #[oai(path = "/domains", method = "get", operation_id = "listCustomDomains")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<CustomDomainList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let items = domains::list(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(CustomDomainList {
            items: items.into_iter().map(Into::into).collect(),
            cname_target: format!("{}.{}", staff.tenant.slug, state.config.platform_domain),
            max_domains: domains::MAX_CUSTOM_DOMAINS,
        }))
    }

    /// Adds a custom domain, pending until its TXT record is found. A domain is unique on the
    /// platform; the platform's own domain is refused. Audited.
    #[oai(path = "/domains", method = "post", operation_id = "addCustomDomain")]
    async fn add(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<AddCustomDomain>,
    ) -> Result<DomainAdded, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let host = parse(&state, &body.0.domain)?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let domain = domains::add(&mut tx, &host, Utc::now()).await?;
        audit(&mut tx, &staff, "domain.add", &domain.host, json!({})).await?;
        tx.commit().await?;
        Ok(DomainAdded::Created(Json(domain.into())))
    }

    /// Looks the TXT record up now. Found: the domain is verified and served on every node at
    /// once. Not found: 200 with `status: failed` and the reason. Audited.
    #[oai(
        path = "/domains/:host/verify",
        method = "post",
        operation_id = "verifyCustomDomain"
    )]
    async fn verify(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        host: Path<String>,
    ) -> Result<Json<CustomDomainItem>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let host = parse(&state, &host.0)?;
        let domain = {
            let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
            let domain = domains::get(&mut tx, &host).await?;
            tx.commit().await?;
            domain
        };
        // No transaction is held while DNS answers (or does not).
        let outcome = state.config.domain_verifier.check(&domain).await;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let was_verified = domain.verified_at.is_some();
        let domain = domains::record_check(&mut tx, &host, &outcome, Utc::now()).await?;
        audit(
            &mut tx,
            &staff,
            "domain.verify",
            &domain.host,
            json!({
                "verified": domain.status == Status::Verified,
                "failure": domain.failure.map(|f| f.as_str()),
            }),
        )
        .await?;
        tx.commit().await?;
        if !was_verified && domain.verified_at.is_some() {
            // Other nodes hear of it through NOTIFY; this one need not wait for that.
            state.directory.invalidate_all();
        }
        Ok(Json(domain.into()))
    }

    /// Removes a custom domain: it stops being served on every node at once. Audited.
    #[oai(
        path = "/domains/:host",
        method = "delete",
        operation_id = "removeCustomDomain"
    )]
    async fn remove(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        host: Path<String>,
    ) -> Result<DomainRemoved, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let host = parse(&state, &host.0)?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let removed = domains::remove(&mut tx, &host).await?;
        audit(
            &mut tx,
            &staff,
            "domain.remove",
            &removed.host,
            json!({ "was_verified": removed.verified_at.is_some() }),
        )
        .await?;
        tx.commit().await?;
        state.directory.invalidate_all();
        Ok(DomainRemoved::Removed)
    }
}
