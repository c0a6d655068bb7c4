use kabinet_core::{Currency, TenantId};
use kabinet_db::{DbError, PlatformTx, TenantTx, sqlx};
use sqlx::{PgConnection, Row, postgres::PgRow};

use crate::model::{Branding, Host, Locale, Slug, Tenant, TenantStatus};

#[derive(Debug, thiserror::Error)]
pub enum TenancyError {
    #[error("host {0} already belongs to another tenant")]
    HostTaken(String),
    #[error("slug {0} is already taken")]
    SlugTaken(String),
    #[error("no tenant {0}")]
    UnknownTenant(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for TenancyError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// What a tenant should look like; applied by provisioning (manifests, signup).
#[derive(Clone, Debug)]
pub struct TenantSpec {
    pub slug: Slug,
    pub display_name: String,
    pub status: TenantStatus,
    pub saas_plan: String,
    pub currency: Currency,
    pub default_locale: Locale,
    pub time_zone: String,
    pub branding: Branding,
    /// Custom domains (verified ones are served). The platform subdomain is implied by the slug.
    pub custom_domains: Vec<(Host, bool)>,
}

pub(crate) const TENANT_COLUMNS: &str = "id, slug, display_name, status, saas_plan, currency, default_locale, \
     time_zone, branding, published_at IS NOT NULL AS published, trial_ends_at, suspended_reason, \
     COALESCE((SELECT b.state = 'read_only' FROM saas_billing b WHERE b.tenant_id = id), false) AS read_only";

pub(crate) fn tenant_from_row(row: &PgRow) -> Result<Tenant, sqlx::Error> {
    let decode = |what: &str, e: String| sqlx::Error::Decode(format!("tenants.{what}: {e}").into());
    let slug: String = row.try_get("slug")?;
    let status: String = row.try_get("status")?;
    let currency: String = row.try_get("currency")?;
    let locale: String = row.try_get("default_locale")?;
    let branding: serde_json::Value = row.try_get("branding")?;
    Ok(Tenant {
        id: TenantId(row.try_get("id")?),
        slug: Slug::parse(&slug).map_err(|e| decode("slug", e.to_string()))?,
        display_name: row.try_get("display_name")?,
        status: TenantStatus::parse(&status).ok_or_else(|| decode("status", status.clone()))?,
        saas_plan: row.try_get("saas_plan")?,
        currency: Currency::parse(&currency).map_err(|e| decode("currency", e.to_string()))?,
        default_locale: Locale::parse(&locale).ok_or_else(|| decode("locale", locale.clone()))?,
        time_zone: row.try_get("time_zone")?,
        branding: serde_json::from_value(branding)
            .map_err(|e| decode("branding", e.to_string()))?,
        published: row.try_get("published")?,
        trial_ends_at: row.try_get("trial_ends_at")?,
        suspended_reason: row.try_get("suspended_reason")?,
        read_only: row.try_get("read_only")?,
    })
}

pub async fn find_tenant_by_slug(
    conn: &mut PgConnection,
    slug: &Slug,
) -> Result<Option<Tenant>, TenancyError> {
    let row = sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS} FROM tenants WHERE slug = $1"
    ))
    .bind(slug.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.as_ref().map(tenant_from_row).transpose()?)
}

/// Resolves a custom domain to its tenant; unverified domains resolve to nothing.
pub(crate) async fn find_tenant_by_custom_host(
    conn: &mut PgConnection,
    host: &Host,
) -> Result<Option<Tenant>, TenancyError> {
    let row = sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ( \
           SELECT tenant_id FROM tenant_hosts \
           WHERE host = $1 AND kind = 'custom' AND verified_at IS NOT NULL)"
    ))
    .bind(host.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.as_ref().map(tenant_from_row).transpose()?)
}

/// All tenants with their hosts, for the operator console. One statement.
pub async fn list_tenants(tx: &mut PlatformTx) -> Result<Vec<(Tenant, Vec<String>)>, TenancyError> {
    let rows = sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS}, \
           COALESCE((SELECT array_agg(h.host ORDER BY h.host) FROM tenant_hosts h WHERE h.tenant_id = tenants.id), '{{}}') AS hosts \
         FROM tenants ORDER BY slug"
    ))
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| Ok((tenant_from_row(row)?, row.try_get("hosts")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Hosts of one tenant (subdomains and custom domains, verified or not).
pub async fn tenant_hosts(tx: &mut TenantTx) -> Result<Vec<(String, bool)>, TenancyError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT host, verified_at IS NOT NULL AS verified FROM tenant_hosts WHERE tenant_id = $1 ORDER BY host",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("host")?, r.try_get("verified")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Creates or updates the tenant `tx` is scoped to, and its hosts. Returns whether anything
/// changed, so applying the same manifest twice reports "unchanged".
pub async fn upsert_tenant(
    tx: &mut TenantTx,
    spec: &TenantSpec,
    platform_domain: &str,
) -> Result<bool, TenancyError> {
    let tenant = tx.tenant();
    let branding = serde_json::to_value(&spec.branding).unwrap_or_default();
    let changed = sqlx::query(
        "INSERT INTO tenants (id, slug, display_name, status, saas_plan, currency, default_locale, time_zone, branding) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET \
           slug = EXCLUDED.slug, display_name = EXCLUDED.display_name, status = EXCLUDED.status, \
           saas_plan = EXCLUDED.saas_plan, currency = EXCLUDED.currency, \
           default_locale = EXCLUDED.default_locale, time_zone = EXCLUDED.time_zone, \
           branding = EXCLUDED.branding, updated_at = now() \
         WHERE (tenants.slug, tenants.display_name, tenants.status, tenants.saas_plan, tenants.currency, \
                tenants.default_locale, tenants.time_zone, tenants.branding) \
           IS DISTINCT FROM (EXCLUDED.slug, EXCLUDED.display_name, EXCLUDED.status, EXCLUDED.saas_plan, \
                EXCLUDED.currency, EXCLUDED.default_locale, EXCLUDED.time_zone, EXCLUDED.branding)",
    )
    .bind(tenant.as_uuid())
    .bind(spec.slug.as_str())
    .bind(&spec.display_name)
    .bind(spec.status.as_str())
    .bind(&spec.saas_plan)
    .bind(spec.currency.code())
    .bind(spec.default_locale.as_str())
    .bind(&spec.time_zone)
    .bind(branding)
    .execute(tx.conn())
    .await
    .map_err(|e| match kabinet_db::constraint_name(&e) {
        Some("tenants_slug_key") => TenancyError::SlugTaken(spec.slug.to_string()),
        _ => e.into(),
    })?
    .rows_affected()
        > 0;

    let mut hosts: Vec<(String, &str, bool)> = vec![(
        format!("{}.{platform_domain}", spec.slug),
        "subdomain",
        true,
    )];
    hosts.extend(
        spec.custom_domains
            .iter()
            .map(|(h, verified)| (h.to_string(), "custom", *verified)),
    );
    let names: Vec<String> = hosts.iter().map(|h| h.0.clone()).collect();
    let kinds: Vec<&str> = hosts.iter().map(|h| h.1).collect();
    let verified: Vec<bool> = hosts.iter().map(|h| h.2).collect();

    let removed =
        // Only hosts a manifest declared: domains the ISP added in the console stay.
        sqlx::query(
            "DELETE FROM tenant_hosts WHERE tenant_id = $1 AND NOT (host = ANY($2)) \
             AND (kind = 'subdomain' OR from_manifest)",
        )
            .bind(tenant.as_uuid())
            .bind(&names)
            .execute(tx.conn())
            .await?
            .rows_affected();
    let upserted = sqlx::query(
        "INSERT INTO tenant_hosts (host, tenant_id, kind, verified_at, from_manifest) \
         SELECT host, $1, kind, CASE WHEN verified THEN now() END, true \
         FROM unnest($2::text[], $3::text[], $4::bool[]) AS t(host, kind, verified) \
         ON CONFLICT (host) DO UPDATE SET kind = EXCLUDED.kind, from_manifest = true, \
           verified_at = CASE WHEN EXCLUDED.verified_at IS NULL THEN NULL \
                              ELSE COALESCE(tenant_hosts.verified_at, EXCLUDED.verified_at) END \
         WHERE tenant_hosts.tenant_id = $1 \
           AND (tenant_hosts.kind, tenant_hosts.verified_at IS NULL, tenant_hosts.from_manifest) \
               IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.verified_at IS NULL, true)",
    )
    .bind(tenant.as_uuid())
    .bind(&names)
    .bind(&kinds)
    .bind(&verified)
    .execute(tx.conn())
    .await?
    .rows_affected();

    // A host owned by another tenant is left untouched by the guarded upsert above; say so.
    let foreign: Option<String> = sqlx::query_scalar(
        "SELECT host FROM tenant_hosts WHERE host = ANY($1) AND tenant_id <> $2 LIMIT 1",
    )
    .bind(&names)
    .bind(tenant.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    if let Some(host) = foreign {
        return Err(TenancyError::HostTaken(host));
    }
    Ok(changed || removed > 0 || upserted > 0)
}
