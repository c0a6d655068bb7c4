//! A tenant's life after it is created: the operator suspends and resumes it, the ISP publishes
//! its portal, and each scheduler round records the usage figures the operator console shows.

use chrono::{DateTime, Utc};
use kabinet_db::{PlatformTx, TenantTx, sqlx};
use sqlx::Row;

use crate::model::{Branding, Tenant, TenantStatus};
use crate::repo::{TENANT_COLUMNS, TenancyError, tenant_from_row};

/// What each scheduler round measures of a tenant, for the operator (no subscriber data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantUsage {
    /// Accounts in service (not blocked, not suspended): what the SaaS plan prices.
    pub active_subscribers: i32,
    pub subscribers: i32,
    /// Tickets not yet resolved or closed.
    pub open_tickets: i32,
    /// Active staff members (seats on the plan).
    pub staff_seats: i32,
    /// The last time anyone (subscriber or staff) used a session.
    pub last_activity_at: Option<DateTime<Utc>>,
    pub measured_at: DateTime<Utc>,
}

/// A tenant as the operator console lists it.
#[derive(Clone, Debug)]
pub struct TenantOverview {
    pub tenant: Tenant,
    pub hosts: Vec<String>,
    /// `None` until the tenant's first scheduler round.
    pub usage: Option<TenantUsage>,
}

/// Every tenant with its hosts and last measured usage, optionally filtered by a case-insensitive
/// substring of the slug, the name or a host. One statement.
pub async fn tenant_overview(
    tx: &mut PlatformTx,
    search: Option<&str>,
) -> Result<Vec<TenantOverview>, TenancyError> {
    let pattern = search.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let rows = sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS}, \
           COALESCE((SELECT array_agg(h.host ORDER BY h.host) FROM tenant_hosts h WHERE h.tenant_id = t.id), '{{}}') AS hosts, \
           u.active_subscribers, u.subscribers, u.open_tickets, u.staff_seats, u.last_activity_at, u.measured_at \
         FROM tenants t LEFT JOIN tenant_usage u ON u.tenant_id = t.id \
         WHERE $1::text IS NULL OR t.slug ILIKE $1 OR t.display_name ILIKE $1 \
            OR EXISTS (SELECT 1 FROM tenant_hosts h WHERE h.tenant_id = t.id AND h.host ILIKE $1) \
         ORDER BY t.slug"
    ))
    .bind(pattern.as_deref())
    .fetch_all(tx.conn())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let measured_at: Option<DateTime<Utc>> = row.try_get("measured_at")?;
        let usage = match measured_at {
            Some(measured_at) => Some(TenantUsage {
                active_subscribers: row.try_get("active_subscribers")?,
                subscribers: row.try_get("subscribers")?,
                open_tickets: row.try_get("open_tickets")?,
                staff_seats: row.try_get("staff_seats")?,
                last_activity_at: row.try_get("last_activity_at")?,
                measured_at,
            }),
            None => None,
        };
        out.push(TenantOverview {
            tenant: tenant_from_row(row)?,
            hosts: row.try_get("hosts")?,
            usage,
        });
    }
    Ok(out)
}

/// Measures the tenant `tx` is scoped to and stores the figures for the operator: counts, the
/// bytes of its rows and its due mail and CoA queues. Counts only: the platform never reads a
/// subscriber's row. One statement (the data size walks every tenant table's index on tenant_id).
pub async fn record_usage(tx: &mut TenantTx) -> Result<TenantUsage, TenancyError> {
    let row = sqlx::query(
        "INSERT INTO tenant_usage (tenant_id, active_subscribers, subscribers, open_tickets, staff_seats, last_activity_at, measured_at, \
           data_bytes, mail_due, oldest_mail_due_at, coa_due) \
         SELECT $1, \
           (SELECT count(*) FILTER (WHERE status = 'active') FROM accounts WHERE tenant_id = $1)::int, \
           (SELECT count(*) FROM accounts WHERE tenant_id = $1)::int, \
           (SELECT count(*) FROM tickets WHERE tenant_id = $1 AND status NOT IN ('resolved', 'closed'))::int, \
           (SELECT count(*) FROM staff WHERE tenant_id = $1 AND active)::int, \
           (SELECT max(last_seen_at) FROM sessions WHERE tenant_id = $1), \
           now(), \
           tenant_data_bytes($1), \
           m.due, m.oldest, \
           (SELECT count(*) FROM coa_requests WHERE tenant_id = $1 AND status = 'pending' AND next_attempt_at <= now())::int \
         FROM (SELECT count(*)::int AS due, min(created_at) AS oldest FROM mail_outbox \
               WHERE tenant_id = $1 AND status = 'queued' AND next_attempt_at <= now()) m \
         ON CONFLICT (tenant_id) DO UPDATE SET \
           active_subscribers = EXCLUDED.active_subscribers, subscribers = EXCLUDED.subscribers, \
           open_tickets = EXCLUDED.open_tickets, staff_seats = EXCLUDED.staff_seats, \
           last_activity_at = EXCLUDED.last_activity_at, measured_at = EXCLUDED.measured_at, \
           data_bytes = EXCLUDED.data_bytes, mail_due = EXCLUDED.mail_due, \
           oldest_mail_due_at = EXCLUDED.oldest_mail_due_at, coa_due = EXCLUDED.coa_due \
         RETURNING active_subscribers, subscribers, open_tickets, staff_seats, last_activity_at, measured_at",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_one(tx.conn())
    .await?;
    Ok(TenantUsage {
        active_subscribers: row.try_get("active_subscribers")?,
        subscribers: row.try_get("subscribers")?,
        open_tickets: row.try_get("open_tickets")?,
        staff_seats: row.try_get("staff_seats")?,
        last_activity_at: row.try_get("last_activity_at")?,
        measured_at: row.try_get("measured_at")?,
    })
}

/// Suspends (with the reason its portal will show) or resumes the tenant `tx` is scoped to, in
/// that transaction, so the caller's audit entry lands with it. Data is kept either way.
/// Returns the tenant as it was before and as it is now.
pub async fn set_tenant_status(
    tx: &mut TenantTx,
    status: TenantStatus,
    reason: Option<&str>,
) -> Result<(Tenant, Tenant), TenancyError> {
    let row = sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1 FOR UPDATE"
    ))
    .bind(tx.tenant().as_uuid())
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| TenancyError::UnknownTenant(tx.tenant().to_string()))?;
    let before = tenant_from_row(&row)?;
    let reason = match status {
        TenantStatus::Suspended => reason.map(str::trim).filter(|r| !r.is_empty()),
        TenantStatus::Active => None,
    };
    sqlx::query(
        "UPDATE tenants SET status = $2, suspended_reason = $3, updated_at = now() WHERE id = $1",
    )
    .bind(before.id.as_uuid())
    .bind(status.as_str())
    .bind(reason)
    .execute(tx.conn())
    .await?;
    let after = Tenant {
        status,
        suspended_reason: reason.map(str::to_owned),
        ..before.clone()
    };
    Ok((before, after))
}

/// Opens the tenant's portal to its subscribers (the first-run checklist's last step). Returns
/// false when it was already published.
pub async fn publish_portal(tx: &mut TenantTx) -> Result<bool, TenancyError> {
    let done = sqlx::query(
        "UPDATE tenants SET published_at = now(), updated_at = now() \
         WHERE id = $1 AND published_at IS NULL",
    )
    .bind(tx.tenant().as_uuid())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(done > 0)
}

/// Logos uploaded in the console: small raster images, typed by their bytes.
pub const LOGO_MAX_BYTES: usize = 100 * 1024;

/// A change of the ISP's name, colours, logo and support contacts from the console.
#[derive(Clone, Debug)]
pub struct BrandingUpdate {
    pub display_name: String,
    /// `#rrggbb`, or `None` for the platform's default.
    pub primary_color: Option<String>,
    pub accent_color: Option<String>,
    pub logo: LogoChange,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
}

#[derive(Clone, Debug)]
pub enum LogoChange {
    Keep,
    Remove,
    /// The file's bytes: PNG, JPEG or WebP, at most [`LOGO_MAX_BYTES`].
    Set(Vec<u8>),
}

/// Why a branding change was refused: the field and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct BrandingInvalid {
    pub field: &'static str,
    pub reason: String,
}

fn logo_data_url(bytes: &[u8]) -> Result<String, BrandingInvalid> {
    let invalid = |reason: &str| BrandingInvalid {
        field: "logo",
        reason: reason.to_owned(),
    };
    if bytes.is_empty() {
        return Err(invalid("the file is empty"));
    }
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(invalid(&format!(
            "the logo is over {} KiB",
            LOGO_MAX_BYTES / 1024
        )));
    }
    // By content, never by name: only raster formats every browser shows in an <img>.
    let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return Err(invalid("the logo must be a PNG, JPEG or WebP image"));
    };
    use base64::Engine;
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// Checks an update and turns it into the branding to store (the logo as a `data:` URL).
pub fn check_branding(
    update: &BrandingUpdate,
    current: &Branding,
) -> Result<(String, Branding), BrandingInvalid> {
    let invalid = |field: &'static str, reason: &str| BrandingInvalid {
        field,
        reason: reason.to_owned(),
    };
    let name = update.display_name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(invalid("display_name", "must be 1 to 200 characters"));
    }
    let color =
        |field: &'static str, value: &Option<String>| -> Result<Option<String>, BrandingInvalid> {
            match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v)
                    if v.len() == 7
                        && v.starts_with('#')
                        && v[1..].chars().all(|c| c.is_ascii_hexdigit()) =>
                {
                    Ok(Some(v.to_ascii_lowercase()))
                }
                Some(_) => Err(invalid(field, "colours are written #rrggbb")),
            }
        };
    let email = match update
        .support_email
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(e) => {
            if !kabinet_core::is_plausible_email(e) {
                return Err(invalid("support_email", "must be an e-mail address"));
            }
            Some(e.to_owned())
        }
    };
    let phone = match update
        .support_phone
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(p) => {
            let ok = p.len() <= 40
                && p.chars().any(|c| c.is_ascii_digit())
                && p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
            if !ok {
                return Err(invalid(
                    "support_phone",
                    "digits, spaces, + - ( ) only, up to 40 characters",
                ));
            }
            Some(p.to_owned())
        }
    };
    let logo_url = match &update.logo {
        LogoChange::Keep => current.logo_url.clone(),
        LogoChange::Remove => None,
        LogoChange::Set(bytes) => Some(logo_data_url(bytes)?),
    };
    Ok((
        name.to_owned(),
        Branding {
            primary_color: color("primary_color", &update.primary_color)?,
            accent_color: color("accent_color", &update.accent_color)?,
            logo_url,
            support_email: email,
            support_phone: phone,
        },
    ))
}

/// Stores a checked branding change for the tenant `tx` is scoped to; every node drops its
/// cached tenant on commit. Returns the tenant before and after.
pub async fn update_branding(
    tx: &mut TenantTx,
    display_name: &str,
    branding: &Branding,
) -> Result<(Tenant, Tenant), TenancyError> {
    let row = sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1 FOR UPDATE"
    ))
    .bind(tx.tenant().as_uuid())
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| TenancyError::UnknownTenant(tx.tenant().to_string()))?;
    let before = tenant_from_row(&row)?;
    sqlx::query(
        "UPDATE tenants SET display_name = $2, branding = $3, updated_at = now() WHERE id = $1",
    )
    .bind(before.id.as_uuid())
    .bind(display_name)
    .bind(serde_json::to_value(branding).unwrap_or_default())
    .execute(tx.conn())
    .await?;
    let after = Tenant {
        display_name: display_name.to_owned(),
        branding: branding.clone(),
        ..before.clone()
    };
    Ok((before, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update() -> BrandingUpdate {
        BrandingUpdate {
            display_name: "  Акме  ".into(),
            primary_color: Some("#1F5FBF".into()),
            accent_color: Some(String::new()),
            logo: LogoChange::Keep,
            support_email: Some("help@acme.example".into()),
            support_phone: Some("+7 (343) 200-00-00".into()),
        }
    }

    #[test]
    fn a_branding_update_is_normalised_and_keeps_the_logo_unless_told() {
        let current = Branding {
            logo_url: Some("data:image/png;base64,AAAA".into()),
            ..Branding::default()
        };
        let (name, b) = check_branding(&update(), &current).expect("valid");
        assert_eq!(name, "Акме");
        assert_eq!(b.primary_color.as_deref(), Some("#1f5fbf"));
        assert_eq!(b.accent_color, None, "an empty colour means the default");
        assert_eq!(b.logo_url, current.logo_url);
        let removed = check_branding(
            &BrandingUpdate {
                logo: LogoChange::Remove,
                ..update()
            },
            &current,
        )
        .expect("valid");
        assert_eq!(removed.1.logo_url, None);
    }

    #[test]
    fn logos_are_typed_by_content_and_size_limited() {
        let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 16]].concat();
        let set = |bytes: Vec<u8>| {
            check_branding(
                &BrandingUpdate {
                    logo: LogoChange::Set(bytes),
                    ..update()
                },
                &Branding::default(),
            )
        };
        let (_, b) = set(png).expect("png");
        assert!(
            b.logo_url
                .expect("logo")
                .starts_with("data:image/png;base64,")
        );
        let svg =
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec();
        assert_eq!(set(svg).expect_err("svg").field, "logo");
        let exe = [b"MZ".as_slice(), &[0u8; 64]].concat();
        assert_eq!(set(exe).expect_err("exe").field, "logo");
        let huge = [b"\xff\xd8\xff".as_slice(), &vec![0u8; LOGO_MAX_BYTES]].concat();
        assert!(set(huge).expect_err("huge").reason.contains("KiB"));
    }

    #[test]
    fn colours_contacts_and_names_are_checked() {
        for (bad, field) in [
            (
                BrandingUpdate {
                    primary_color: Some("blue".into()),
                    ..update()
                },
                "primary_color",
            ),
            (
                BrandingUpdate {
                    support_email: Some("nobody".into()),
                    ..update()
                },
                "support_email",
            ),
            (
                BrandingUpdate {
                    support_phone: Some("call me maybe".into()),
                    ..update()
                },
                "support_phone",
            ),
            (
                BrandingUpdate {
                    display_name: " ".into(),
                    ..update()
                },
                "display_name",
            ),
        ] {
            assert_eq!(
                check_branding(&bad, &Branding::default())
                    .expect_err(field)
                    .field,
                field
            );
        }
    }
}
