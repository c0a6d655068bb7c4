//! Making the database match a manifest.

use std::path::Path;

use kabinet_access::directory::{
    StaffSpec, SubscriberSpec, upsert_operator, upsert_staff, upsert_subscriber,
};
use kabinet_billing::{
    AccountStatus, LedgerAccount, Line, NewTransaction, TariffSpec, TransactionKind,
    ensure_account, post, refresh_status, upsert_tariff,
};
use kabinet_core::{Money, TenantId};
use kabinet_db::{Database, sqlx};
use kabinet_tenancy::{Branding, TenantSpec, find_tenant_by_slug, upsert_tenant};
use serde_json::Value;

use crate::diff::removed_paths;
use crate::manifest::{ManifestError, ParsedManifest, PlatformManifest, load_dir};

/// What applying one manifest did.
#[derive(Debug, Default)]
pub struct ApplyReport {
    pub slug: String,
    pub created: bool,
    /// Human-readable changes (`tariff home-100 updated`); empty when nothing changed.
    pub changes: Vec<String>,
    /// Things the manifest asks for that applying does not do (removed fields, balances).
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Manifests(Vec<ManifestError>),
    #[error("{file}: {message}")]
    Apply { file: String, message: String },
}

fn apply_err(m: &ParsedManifest, e: impl std::fmt::Display) -> ApplyError {
    ApplyError::Apply {
        file: m.file.display().to_string(),
        message: e.to_string(),
    }
}

/// Applies every manifest in `dir`. Nothing is written unless every file parses.
pub async fn apply_dir(
    db: &Database,
    dir: &Path,
    platform_domain: &str,
) -> Result<Vec<ApplyReport>, ApplyError> {
    let (platform, tenants) = load_dir(dir).map_err(ApplyError::Manifests)?;
    let mut reports = Vec::new();
    if let Some(platform) = platform {
        reports.push(
            apply_platform(db, &platform)
                .await
                .map_err(|e| ApplyError::Apply {
                    file: dir.join("_platform.toml").display().to_string(),
                    message: e.to_string(),
                })?,
        );
    }
    for manifest in &tenants {
        reports.push(apply(db, manifest, platform_domain).await?);
    }
    Ok(reports)
}

pub async fn apply_platform(
    db: &Database,
    platform: &PlatformManifest,
) -> Result<ApplyReport, kabinet_access::AccessError> {
    let mut report = ApplyReport {
        slug: "(platform)".into(),
        ..Default::default()
    };
    let mut tx = db.platform_tx().await?;
    for op in &platform.operators {
        if upsert_operator(
            &mut tx,
            &op.email,
            &op.display_name,
            op.initial_password.as_deref(),
        )
        .await?
        {
            report
                .changes
                .push(format!("operator {} created or updated", op.email));
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// The manifest as stored for the next diff, with secrets replaced.
fn redacted(manifest: &ParsedManifest) -> Value {
    fn redact(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if k == "initial_password" && !v.is_null() {
                        *v = Value::String("(set)".into());
                    } else {
                        redact(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(redact),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(&manifest.manifest).unwrap_or(Value::Null);
    redact(&mut value);
    value
}

/// Applies one tenant's manifest in a single transaction: all of it lands, or none.
pub async fn apply(
    db: &Database,
    parsed: &ParsedManifest,
    platform_domain: &str,
) -> Result<ApplyReport, ApplyError> {
    Ok(apply_manifest(db, parsed, platform_domain, false).await?.0)
}

/// Applies a manifest for a tenant that must not exist yet (self-serve signup): refuses when
/// the slug is taken, so a signup can never take over an existing ISP.
pub(crate) async fn create(
    db: &Database,
    parsed: &ParsedManifest,
    platform_domain: &str,
) -> Result<TenantId, ApplyError> {
    Ok(apply_manifest(db, parsed, platform_domain, true).await?.1)
}

async fn apply_manifest(
    db: &Database,
    parsed: &ParsedManifest,
    platform_domain: &str,
    create_only: bool,
) -> Result<(ApplyReport, TenantId), ApplyError> {
    let m = &parsed.manifest;
    let err = |e: &dyn std::fmt::Display| apply_err(parsed, e);
    let mut report = ApplyReport {
        slug: m.slug.to_string(),
        ..Default::default()
    };

    let mut lookup = db.platform_tx().await.map_err(|e| err(&e))?;
    let existing = find_tenant_by_slug(lookup.conn(), &m.slug)
        .await
        .map_err(|e| err(&e))?;
    // A new tenant, or one moving plans, needs a plan on offer (signup checks the same way).
    if existing.as_ref().is_none_or(|t| t.saas_plan != m.saas_plan) {
        kabinet_tenancy::plans::check_offered_plan(lookup.conn(), &m.saas_plan)
            .await
            .map_err(|e| err(&format!("saas_plan: {e}")))?;
    }
    lookup.commit().await.map_err(|e| err(&e))?;
    if create_only && existing.is_some() {
        return Err(err(&format!("tenant {} already exists", m.slug)));
    }
    let tenant = existing
        .as_ref()
        .map(|t| t.id)
        .unwrap_or_else(TenantId::new);
    report.created = existing.is_none();

    let mut tx = db.tenant_tx(tenant).await.map_err(|e| err(&e))?;
    // Serialise concurrent applies of the same tenant (two nodes, two operators).
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('kabinet.apply.' || $1))")
        .bind(m.slug.as_str())
        .execute(tx.conn())
        .await
        .map_err(|e| err(&e))?;

    let spec = TenantSpec {
        slug: m.slug.clone(),
        display_name: m.display_name.clone(),
        status: m.status,
        saas_plan: m.saas_plan.clone(),
        currency: m.currency,
        default_locale: m.default_locale,
        time_zone: m.time_zone.clone(),
        branding: Branding {
            primary_color: m.branding.primary_color.clone().map(Into::into),
            accent_color: m.branding.accent_color.clone().map(Into::into),
            logo_url: parsed.logo_data_url.clone(),
            support_email: m.branding.support_email.clone(),
            support_phone: m.branding.support_phone.clone(),
        },
        custom_domains: m
            .custom_domains
            .iter()
            .map(|d| (d.host.clone(), d.verified))
            .collect(),
    };
    if upsert_tenant(&mut tx, &spec, platform_domain)
        .await
        .map_err(|e| err(&e))?
    {
        report.changes.push(if report.created {
            format!("tenant {} created", m.slug)
        } else {
            format!("tenant {} updated", m.slug)
        });
    }

    if let Some(rules) = &m.billing
        && kabinet_billing::set_billing_settings(&mut tx, &rules.settings())
            .await
            .map_err(|e| err(&format!("billing: {e}")))?
    {
        report.changes.push("billing rules updated".into());
    }

    if let Some(p) = &m.payments
        && kabinet_payments::connect_account(&mut tx, &p.stripe_account, p.application_fee_bps)
            .await
            .map_err(|e| err(&format!("payments: {e}")))?
    {
        report
            .changes
            .push(format!("Stripe account {} connected", p.stripe_account));
    }

    for s in &m.staff {
        let staff = StaffSpec {
            email: s.email.clone(),
            display_name: s.display_name.clone(),
            roles: s.roles.iter().map(|r| r.0).collect(),
            initial_password: s.initial_password.clone(),
        };
        if upsert_staff(&mut tx, &staff)
            .await
            .map_err(|e| err(&format!("staff {}: {e}", s.email)))?
            .1
        {
            report
                .changes
                .push(format!("staff {} created or updated", s.email));
        }
    }

    for t in &m.tariffs {
        let spec = TariffSpec {
            code: t.code.clone(),
            name: t.name.clone(),
            monthly_price: Money::new(t.monthly_price.0, m.currency),
            speed_mbps: t.speed_mbps,
            upload_speed_mbps: t.upload_speed_mbps,
        };
        if upsert_tariff(&mut tx, &spec)
            .await
            .map_err(|e| err(&format!("tariff {}: {e}", t.code)))?
            .1
        {
            report
                .changes
                .push(format!("tariff {} created or updated", t.code));
        }
    }

    for a in &m.addons {
        let spec = kabinet_billing::AddonSpec {
            code: a.code.clone(),
            name: a.name.clone(),
            description: a.description.clone(),
            monthly_price: Money::new(a.monthly_price.0, m.currency),
        };
        if kabinet_billing::upsert_addon(&mut tx, &spec)
            .await
            .map_err(|e| err(&format!("add-on {}: {e}", a.code)))?
        {
            report
                .changes
                .push(format!("add-on {} created or updated", a.code));
        }
    }

    for e in &m.equipment {
        let money = |a: &crate::Amount| Money::new(a.0, m.currency);
        let spec = kabinet_billing::EquipmentSpec {
            code: e.code.clone(),
            kind: e.kind.0,
            name: e.name.clone(),
            description: e.description.clone(),
            purchase_price: e.purchase_price.as_ref().map(money),
            monthly_rent: e.monthly_rent.as_ref().map(money),
            stock: e.stock,
            active: e.active,
        };
        if kabinet_billing::upsert_equipment(&mut tx, &spec)
            .await
            .map_err(|x| err(&format!("equipment {}: {x}", e.code)))?
        {
            report
                .changes
                .push(format!("equipment {} created or updated", e.code));
        }
    }

    // Before the articles, which may name them.
    for c in &m.ticket_categories {
        if kabinet_ticketing::categories::upsert(&mut tx, &c.spec())
            .await
            .map_err(|e| err(&format!("ticket category {}: {e}", c.code)))?
        {
            report
                .changes
                .push(format!("ticket category {} created or updated", c.code));
        }
    }

    for n in &m.news {
        let ctx = |e: &dyn std::fmt::Display| err(&format!("news {}: {e}", n.slug));
        let spec = n.spec(chrono::Utc::now()).map_err(|e| ctx(&e))?;
        if kabinet_cabinet::news::upsert_post(&mut tx, &n.slug, &spec, n.publish_at.is_some())
            .await
            .map_err(|e| ctx(&e))?
        {
            report
                .changes
                .push(format!("news {} created or updated", n.slug));
        }
    }

    for a in &m.kb_articles {
        let ctx = |e: &dyn std::fmt::Display| err(&format!("kb_article {}: {e}", a.slug));
        let spec = a.spec().map_err(|e| ctx(&e))?;
        if kabinet_ticketing::kb::upsert_article(&mut tx, &a.slug, &spec)
            .await
            .map_err(|e| ctx(&e))?
        {
            report
                .changes
                .push(format!("kb_article {} created or updated", a.slug));
        }
    }

    for s in &m.subscribers {
        let ctx = |e: &dyn std::fmt::Display| err(&format!("subscriber {}: {e}", s.account_number));
        let spec = SubscriberSpec {
            account_number: s.account_number.clone(),
            full_name: s.full_name.clone(),
            email: s.email.clone(),
            phone: s.phone.clone(),
            address: s.address.clone(),
            initial_password: s.initial_password.clone(),
        };
        let (id, mut changed) = upsert_subscriber(&mut tx, &spec)
            .await
            .map_err(|e| ctx(&e))?;
        // INVARIANT: parse_manifest checked the status.
        let status = AccountStatus::parse(&s.status).unwrap_or(AccountStatus::Active);
        changed |= ensure_account(
            &mut tx,
            id,
            s.tariff.as_ref().map(|t| t.get_ref().as_str()),
            Money::new(s.credit_limit.0, m.currency),
            status,
        )
        .await
        .map_err(|e| ctx(&e))?;
        if s.balance.0 != 0 {
            let amount = Money::new(s.balance.0, m.currency);
            let opening = NewTransaction {
                kind: TransactionKind::OpeningBalance,
                description: "Opening balance".into(),
                idempotency_key: format!("manifest:opening-balance:{}", s.account_number),
                subscriber: Some(id),
                staff: None,
                reference: None,
                lines: vec![
                    Line {
                        account: LedgerAccount::Subscriber(id),
                        amount,
                    },
                    Line {
                        account: LedgerAccount::Adjustments,
                        amount: Money::new(-amount.minor, amount.currency),
                    },
                ],
            };
            match post(&mut tx, &opening).await {
                Ok(posted) => changed |= posted.created,
                Err(kabinet_billing::BillingError::IdempotencyConflict(_)) => {
                    report.warnings.push(format!(
                        "subscriber {}: the opening balance was already recorded with another amount; \
                         balances change through payments and corrections, not manifests",
                        s.account_number
                    ));
                }
                Err(e) => return Err(ctx(&e)),
            }
        }
        // A new account's status follows its opening balance (blocked below the credit limit).
        changed |= !refresh_status(&mut tx, Some(&[id]))
            .await
            .map_err(|e| ctx(&e))?
            .is_empty();
        if changed {
            report.changes.push(format!(
                "subscriber {} created or updated",
                s.account_number
            ));
        }
    }

    let tenant_uuid = tenant.as_uuid();
    let previous: Option<Value> =
        sqlx::query_scalar("SELECT manifest FROM tenant_manifests WHERE tenant_id = $1")
            .bind(tenant_uuid)
            .fetch_optional(tx.conn())
            .await
            .map_err(|e| err(&e))?;
    let current = redacted(parsed);
    if let Some(previous) = &previous {
        for path in removed_paths(previous, &current) {
            report.warnings.push(format!(
                "{path} was removed from the manifest; applying does not delete it — \
                 remove it in the console if that is what you mean"
            ));
        }
    }
    sqlx::query(
        "INSERT INTO tenant_manifests (tenant_id, manifest) VALUES ($1, $2) \
         ON CONFLICT (tenant_id) DO UPDATE SET manifest = EXCLUDED.manifest, applied_at = now() \
         WHERE tenant_manifests.manifest IS DISTINCT FROM EXCLUDED.manifest",
    )
    .bind(tenant_uuid)
    .bind(&current)
    .execute(tx.conn())
    .await
    .map_err(|e| err(&e))?;

    tx.commit().await.map_err(|e| err(&e))?;
    Ok((report, tenant))
}
