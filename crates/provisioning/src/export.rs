//! The inverse of [`crate::apply`]: a tenant's configuration read back from the database as a
//! [`Manifest`] and written as TOML, so an ISP set up in the console can be kept as code, moved
//! to another installation, or compared with `tenants/<slug>.toml`.
//!
//! Everything the manifest schema covers is exported except what cannot be read back:
//! passwords (only hashes are stored; `initial_password` is left out), the opening balance
//! (the account's *current* balance is written as `balance`, which becomes the opening balance
//! when the file is applied to an empty database), news posts and articles written in the
//! console (they have no slug, the manifest's key; the header comment counts them), custom
//! roles (staff keep their built-in roles) and deactivated staff. Ticket categories are written
//! as `[[ticket_categories]]`: every custom one, and a built-in only when the ISP renamed,
//! moved or switched it off. The logo is embedded as a
//! `data:` URL, so the file stands alone. Applying the export to the database it came from
//! reports no changes.

use chrono::SecondsFormat;
use kabinet_core::TenantId;
use kabinet_db::{Database, DbError, TenantTx, sqlx};
use kabinet_tenancy::TenancyError;
use sqlx::Row;

use crate::Amount;
use crate::manifest::{
    AddonEntry, BillingRules, BrandingSpec, CategoryKindName, Color, CustomDomain, EquipmentEntry,
    EquipmentKindName, KbArticleEntry, Manifest, NewsEntry, PaymentsSpec, RoleName, StaffEntry,
    SubscriberEntry, TariffChange, TariffEntry, TicketCategoryEntry,
};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no such tenant")]
    UnknownTenant,
    #[error("the stored configuration cannot be written as a manifest: {0}")]
    Unrepresentable(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Tenancy(#[from] TenancyError),
    #[error(transparent)]
    Billing(#[from] kabinet_billing::BillingError),
}

impl From<sqlx::Error> for ExportError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// A tenant's configuration as a manifest, and the TOML file.
#[derive(Debug)]
pub struct ExportedManifest {
    pub manifest: Manifest,
    pub toml: String,
    /// What the manifest could not carry (console news and articles without a slug).
    pub left_out: Vec<String>,
}

/// Reads the tenant's configuration in one snapshot and writes it as a manifest.
pub async fn export_manifest(
    db: &Database,
    tenant: TenantId,
) -> Result<ExportedManifest, ExportError> {
    let mut tx = db.tenant_snapshot_tx(tenant).await?;
    let exported = read_manifest(&mut tx).await?;
    tx.commit().await?;
    Ok(exported)
}

fn unrepresentable(what: &str, e: impl std::fmt::Display) -> ExportError {
    ExportError::Unrepresentable(format!("{what}: {e}"))
}

fn amount(minor: i64) -> Amount {
    Amount(minor)
}

/// A stored string through the manifest type's own parser (slug, host, currency…).
fn scalar<T: serde::de::DeserializeOwned>(name: &str, v: String) -> Result<T, ExportError> {
    toml::Value::String(v)
        .try_into()
        .map_err(|e| unrepresentable(name, e))
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

async fn read_manifest(tx: &mut TenantTx) -> Result<ExportedManifest, ExportError> {
    let id = tx.tenant().as_uuid();
    let t = sqlx::query(
        "SELECT slug, display_name, status, saas_plan, currency, default_locale, time_zone, branding \
         FROM tenants WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(ExportError::UnknownTenant)?;
    let branding: kabinet_tenancy::Branding =
        serde_json::from_value(t.try_get("branding")?).unwrap_or_default();
    let color = |c: Option<String>| {
        c.map(|c| Color::try_from(c).map_err(|e| unrepresentable("branding colour", e)))
            .transpose()
    };
    let slug = scalar("slug", t.try_get("slug")?)?;
    let status = scalar("status", t.try_get("status")?)?;
    let currency = scalar(
        "currency",
        t.try_get::<String, _>("currency")?.trim().to_owned(),
    )?;
    let default_locale = scalar("default_locale", t.try_get("default_locale")?)?;

    let custom_domains = sqlx::query(
        "SELECT host, verified_at IS NOT NULL AS verified FROM tenant_hosts \
         WHERE tenant_id = $1 AND kind = 'custom' ORDER BY host",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        Ok(CustomDomain {
            host: scalar("custom_domains.host", r.try_get("host")?)?,
            verified: r.try_get("verified")?,
        })
    })
    .collect::<Result<Vec<_>, ExportError>>()?;

    let s = kabinet_billing::billing_settings(tx).await?;
    let billing = BillingRules {
        promised_payment_max: Some(amount(s.promised_payment_max_minor)),
        promised_payment_days: Some(s.promised_payment_days),
        promised_payments_per_month: Some(s.promised_payments_per_month),
        suspension_min_days: Some(s.suspension_min_days),
        suspension_max_days: Some(s.suspension_max_days),
        suspension_fee: Some(amount(s.suspension_fee_minor)),
        tariff_change: Some(match s.tariff_change_rule {
            kabinet_billing::TariffChangeRule::ImmediateProrated => TariffChange::ImmediateProrated,
            kabinet_billing::TariffChangeRule::NextPeriod => TariffChange::NextPeriod,
        }),
        equipment_on_credit: Some(s.equipment_on_credit),
    };

    let payments = sqlx::query(
        "SELECT account_id, application_fee_bps FROM stripe_accounts WHERE tenant_id = $1",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .map(|r| -> Result<_, sqlx::Error> {
        Ok(PaymentsSpec {
            stripe_account: r.try_get("account_id")?,
            application_fee_bps: r.try_get("application_fee_bps")?,
        })
    })
    .transpose()?;

    let staff = sqlx::query(
        "SELECT s.email, s.display_name, \
           COALESCE(array_agg(r.role ORDER BY r.role) FILTER (WHERE r.role IS NOT NULL), '{}') AS roles \
         FROM staff s LEFT JOIN staff_roles r ON r.tenant_id = s.tenant_id AND r.staff_id = s.id \
         WHERE s.tenant_id = $1 AND s.active \
         GROUP BY s.id, s.email, s.display_name, s.created_at ORDER BY s.created_at, s.email",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        let roles: Vec<String> = r.try_get("roles")?;
        Ok(StaffEntry {
            email: r.try_get("email")?,
            display_name: r.try_get("display_name")?,
            roles: roles
                .into_iter()
                .map(|r| RoleName::try_from(r).map_err(|e| unrepresentable("staff role", e)))
                .collect::<Result<_, _>>()?,
            initial_password: None,
        })
    })
    .collect::<Result<Vec<_>, ExportError>>()?;

    let tariffs = sqlx::query(
        "SELECT code, name, monthly_price_minor, speed_mbps, upload_speed_mbps FROM tariffs \
         WHERE tenant_id = $1 ORDER BY created_at, code",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        Ok(TariffEntry {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            monthly_price: amount(r.try_get("monthly_price_minor")?),
            speed_mbps: r.try_get("speed_mbps")?,
            upload_speed_mbps: r.try_get("upload_speed_mbps")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let addons = sqlx::query(
        "SELECT code, name, description, monthly_price_minor FROM addons \
         WHERE tenant_id = $1 ORDER BY code",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        Ok(AddonEntry {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            monthly_price: amount(r.try_get("monthly_price_minor")?),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let equipment = sqlx::query(
        "SELECT code, kind, name, description, purchase_price_minor, monthly_rent_minor, stock, active \
         FROM equipment_items WHERE tenant_id = $1 ORDER BY created_at, code",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        let kind: String = r.try_get("kind")?;
        Ok(EquipmentEntry {
            code: r.try_get("code")?,
            kind: EquipmentKindName::try_from(kind)
                .map_err(|e| unrepresentable("equipment kind", e))?,
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            purchase_price: r.try_get::<Option<i64>, _>("purchase_price_minor")?.map(amount),
            monthly_rent: r.try_get::<Option<i64>, _>("monthly_rent_minor")?.map(amount),
            stock: r.try_get("stock")?,
            active: r.try_get("active")?,
        })
    })
    .collect::<Result<Vec<_>, ExportError>>()?;

    let news = sqlx::query(
        "SELECT slug, kind, title, body, locale, publish_at, expires_at, target_tariffs, pinned \
         FROM news_posts WHERE tenant_id = $1 AND slug IS NOT NULL ORDER BY created_at, slug",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        Ok(NewsEntry {
            slug: r.try_get("slug")?,
            kind: r.try_get("kind")?,
            title: r.try_get("title")?,
            body: r.try_get("body")?,
            locale: r.try_get("locale")?,
            publish_at: Some(rfc3339(r.try_get("publish_at")?)),
            expires_at: r
                .try_get::<Option<chrono::DateTime<chrono::Utc>>, _>("expires_at")?
                .map(rfc3339),
            tariffs: r.try_get("target_tariffs")?,
            pinned: r.try_get("pinned")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    // Every custom category, and the built-ins the ISP renamed, moved or switched off (the
    // others are what every ISP starts with).
    let ticket_categories = sqlx::query(
        "SELECT code, kind, name_ru, name_en, position, active, built_in FROM ticket_categories \
         WHERE tenant_id = $1 ORDER BY position, code",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| -> Result<Option<TicketCategoryEntry>, ExportError> {
        let code: String = r.try_get("code")?;
        let kind: String = r.try_get("kind")?;
        let seeded_position = kabinet_ticketing::Category::ALL
            .iter()
            .position(|c| c.as_str() == code)
            .map(|i| i as i32 + 1);
        let entry = TicketCategoryEntry {
            kind: CategoryKindName::try_from(kind)
                .map_err(|e| unrepresentable("ticket category kind", e))?,
            code,
            name_ru: r.try_get("name_ru")?,
            name_en: r.try_get("name_en")?,
            position: Some(r.try_get("position")?),
            active: r.try_get("active")?,
        };
        let untouched_built_in = r.try_get::<bool, _>("built_in")?
            && entry.name_ru.is_none()
            && entry.name_en.is_none()
            && entry.active
            && entry.position == seeded_position;
        Ok((!untouched_built_in).then_some(entry))
    })
    .filter_map(Result::transpose)
    .collect::<Result<Vec<_>, ExportError>>()?;

    let kb_articles = sqlx::query(
        "SELECT slug, title, body, locale, category, published_at IS NOT NULL AS published \
         FROM kb_articles WHERE tenant_id = $1 AND slug IS NOT NULL ORDER BY created_at, slug",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        Ok(KbArticleEntry {
            slug: r.try_get("slug")?,
            title: r.try_get("title")?,
            body: r.try_get("body")?,
            locale: r.try_get("locale")?,
            category: r.try_get("category")?,
            published: r.try_get("published")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let (news_left_out, articles_left_out): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM news_posts WHERE tenant_id = $1 AND slug IS NULL), \
                (SELECT count(*) FROM kb_articles WHERE tenant_id = $1 AND slug IS NULL)",
    )
    .bind(id)
    .fetch_one(tx.conn())
    .await?;

    let subscribers = sqlx::query(
        "SELECT s.account_number, s.full_name, s.email, s.phone, s.address, t.code AS tariff, \
           COALESCE(a.balance_minor, 0) AS balance, COALESCE(a.credit_limit_minor, 0) AS credit_limit, \
           COALESCE(a.status, 'active') AS status \
         FROM subscribers s \
         LEFT JOIN accounts a ON a.tenant_id = s.tenant_id AND a.subscriber_id = s.id \
         LEFT JOIN tariffs t ON t.tenant_id = a.tenant_id AND t.id = a.tariff_id \
         WHERE s.tenant_id = $1 ORDER BY s.account_number",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        Ok(SubscriberEntry {
            account_number: r.try_get("account_number")?,
            full_name: r.try_get("full_name")?,
            email: r.try_get("email")?,
            phone: r.try_get("phone")?,
            address: r.try_get("address")?,
            tariff: r
                .try_get::<Option<String>, _>("tariff")?
                .map(|t| toml::Spanned::new(0..0, t)),
            balance: amount(r.try_get("balance")?),
            credit_limit: amount(r.try_get("credit_limit")?),
            status: r.try_get("status")?,
            initial_password: None,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let manifest = Manifest {
        slug,
        display_name: t.try_get("display_name")?,
        saas_plan: t.try_get("saas_plan")?,
        currency,
        default_locale,
        time_zone: t.try_get("time_zone")?,
        status,
        custom_domains,
        branding: BrandingSpec {
            primary_color: color(branding.primary_color)?,
            accent_color: color(branding.accent_color)?,
            logo: branding.logo_url,
            support_email: branding.support_email,
            support_phone: branding.support_phone,
        },
        billing: Some(billing),
        payments,
        staff,
        tariffs,
        addons,
        equipment,
        news,
        ticket_categories,
        kb_articles,
        subscribers,
    };
    let mut left_out = Vec::new();
    if news_left_out > 0 {
        left_out.push(format!(
            "{news_left_out} news post(s) written in the console (no slug)"
        ));
    }
    if articles_left_out > 0 {
        left_out.push(format!(
            "{articles_left_out} knowledge-base article(s) written in the console (no slug)"
        ));
    }
    let toml = to_toml(&manifest, &left_out)?;
    Ok(ExportedManifest {
        manifest,
        toml,
        left_out,
    })
}

/// The manifest as a file: a header comment, then TOML in the schema's field order.
pub fn to_toml(manifest: &Manifest, left_out: &[String]) -> Result<String, ExportError> {
    let body = toml::to_string_pretty(manifest).map_err(|e| unrepresentable("toml", e))?;
    let mut out = format!(
        "# {} — exported by Kabinet from the database (`kabinet tenants export {}`).\n\
         # Passwords are not exported; `balance` is each account's balance at export time.\n",
        manifest.display_name.replace('\n', " "),
        manifest.slug
    );
    for l in left_out {
        out.push_str(&format!("# Not included: {l}.\n"));
    }
    out.push('\n');
    out.push_str(&body);
    Ok(out)
}
