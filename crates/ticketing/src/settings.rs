//! Per-ISP desk settings: reopen window, auto-close delay, business hours, holidays and SLA
//! policies. A tenant that never saved any gets the built-in defaults.

use chrono::NaiveDate;
use kabinet_db::{TenantTx, sqlx};
use serde_json::{Value, json};
use sqlx::Row;
use uuid::Uuid;

use crate::TicketingError;
use crate::model::{Category, Priority};
use crate::sla::{
    BusinessCalendar, OpeningHours, SlaTargets, default_opening_hours, default_targets,
};

pub const DEFAULT_REOPEN_DAYS: i32 = 7;
pub const DEFAULT_AUTO_CLOSE_DAYS: i32 = 7;

/// SLA targets for a priority, optionally narrowed to one category (which then wins).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaPolicy {
    pub priority: Priority,
    pub category: Option<Category>,
    pub targets: SlaTargets,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeskSettings {
    /// Days after resolution during which a subscriber's reply reopens the ticket.
    pub reopen_days: i32,
    /// Days after which a resolved ticket closes by itself.
    pub auto_close_days: i32,
    pub opening_hours: Vec<OpeningHours>,
    pub holidays: Vec<NaiveDate>,
    /// The effective policies: one per priority without a category (stored or built in), plus
    /// the stored per-category ones.
    pub policies: Vec<SlaPolicy>,
}

fn hours_to_json(hours: &[OpeningHours]) -> Value {
    Value::Array(
        hours
            .iter()
            .map(|h| json!({"weekday": h.weekday, "opens": h.opens, "closes": h.closes}))
            .collect(),
    )
}

fn hours_from_json(value: &Value) -> Result<Vec<OpeningHours>, TicketingError> {
    let corrupt = || TicketingError::Corrupt(format!("business_hours {value}"));
    let items = value.as_array().ok_or_else(corrupt)?;
    items
        .iter()
        .map(|item| {
            let field = |name: &str| -> Result<u16, TicketingError> {
                item.get(name)
                    .and_then(Value::as_u64)
                    .and_then(|n| u16::try_from(n).ok())
                    .ok_or_else(corrupt)
            };
            Ok(OpeningHours {
                weekday: u8::try_from(field("weekday")?).map_err(|_| corrupt())?,
                opens: field("opens")?,
                closes: field("closes")?,
            })
        })
        .collect()
}

struct Stored {
    reopen_days: i32,
    auto_close_days: i32,
    hours: Vec<OpeningHours>,
    holidays: Vec<NaiveDate>,
}

async fn stored(tx: &mut TenantTx) -> Result<Stored, TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT reopen_days, auto_close_days, business_hours, holidays FROM ticket_settings WHERE tenant_id = $1",
    )
    .bind(tenant.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    Ok(match row {
        Some(row) => Stored {
            reopen_days: row.try_get("reopen_days")?,
            auto_close_days: row.try_get("auto_close_days")?,
            hours: hours_from_json(&row.try_get::<Value, _>("business_hours")?)?,
            holidays: row.try_get("holidays")?,
        },
        None => Stored {
            reopen_days: DEFAULT_REOPEN_DAYS,
            auto_close_days: DEFAULT_AUTO_CLOSE_DAYS,
            hours: default_opening_hours(),
            holidays: Vec::new(),
        },
    })
}

async fn stored_policies(tx: &mut TenantTx) -> Result<Vec<SlaPolicy>, TicketingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT priority, category, first_response_minutes, resolution_minutes, raise_priority_on_breach \
         FROM ticket_sla_policies WHERE tenant_id = $1",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            let priority: String = r.try_get("priority")?;
            let category: Option<String> = r.try_get("category")?;
            Ok(SlaPolicy {
                priority: Priority::parse(&priority)
                    .ok_or_else(|| TicketingError::Corrupt(format!("priority {priority:?}")))?,
                category: match category {
                    Some(c) => Some(
                        Category::parse(&c)
                            .ok_or_else(|| TicketingError::Corrupt(format!("category {c:?}")))?,
                    ),
                    None => None,
                },
                targets: SlaTargets {
                    first_response_minutes: r.try_get("first_response_minutes")?,
                    resolution_minutes: r.try_get("resolution_minutes")?,
                    raise_priority_on_breach: r.try_get("raise_priority_on_breach")?,
                },
            })
        })
        .collect()
}

fn effective_policies(stored: Vec<SlaPolicy>) -> Vec<SlaPolicy> {
    let mut out: Vec<SlaPolicy> = Priority::ALL
        .iter()
        .map(|&priority| {
            stored
                .iter()
                .find(|p| p.priority == priority && p.category.is_none())
                .cloned()
                .unwrap_or(SlaPolicy {
                    priority,
                    category: None,
                    targets: default_targets(priority),
                })
        })
        .collect();
    let mut narrowed: Vec<SlaPolicy> = stored
        .into_iter()
        .filter(|p| p.category.is_some())
        .collect();
    // Built-ins in their usual order, then the ISP's own by code.
    narrowed.sort_by_key(|p| {
        let built_in = p
            .category
            .as_ref()
            .and_then(|c| Category::ALL.iter().position(|b| b == c));
        (
            p.priority as u8,
            built_in.unwrap_or(usize::MAX),
            p.category.clone(),
        )
    });
    out.extend(narrowed);
    out
}

/// The ISP's desk settings, defaults filled in.
pub async fn get_settings(tx: &mut TenantTx) -> Result<DeskSettings, TicketingError> {
    let s = stored(tx).await?;
    let policies = effective_policies(stored_policies(tx).await?);
    Ok(DeskSettings {
        reopen_days: s.reopen_days,
        auto_close_days: s.auto_close_days,
        opening_hours: s.hours,
        holidays: s.holidays,
        policies,
    })
}

fn invalid(field: &'static str, reason: impl Into<String>) -> TicketingError {
    TicketingError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// Replaces the ISP's desk settings and SLA policies. Due times of existing tickets move when
/// they are next recomputed (priority change, reply, reopen).
pub async fn put_settings(
    tx: &mut TenantTx,
    time_zone: &str,
    settings: &DeskSettings,
) -> Result<DeskSettings, TicketingError> {
    if !(0..=365).contains(&settings.reopen_days) {
        return Err(invalid("reopen_days", "must be 0 to 365"));
    }
    if !(1..=365).contains(&settings.auto_close_days) {
        return Err(invalid("auto_close_days", "must be 1 to 365"));
    }
    BusinessCalendar::new(time_zone, &settings.opening_hours, &settings.holidays)
        .map_err(|e| invalid("opening_hours", e.to_string()))?;
    let mut holidays = settings.holidays.clone();
    holidays.sort_unstable();
    holidays.dedup();
    for (i, p) in settings.policies.iter().enumerate() {
        let t = p.targets;
        if !(1..=525_600).contains(&t.first_response_minutes)
            || !(1..=525_600).contains(&t.resolution_minutes)
        {
            return Err(invalid("policies", "targets must be 1 to 525600 minutes"));
        }
        if t.first_response_minutes > t.resolution_minutes {
            return Err(invalid(
                "policies",
                "the first response cannot be due after the resolution",
            ));
        }
        if settings.policies[..i]
            .iter()
            .any(|q| q.priority == p.priority && q.category == p.category)
        {
            return Err(invalid("policies", "one policy per priority and category"));
        }
    }
    let tenant = tx.tenant();
    sqlx::query(
        "INSERT INTO ticket_settings (tenant_id, reopen_days, auto_close_days, business_hours, holidays) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant_id) DO UPDATE SET reopen_days = EXCLUDED.reopen_days, \
           auto_close_days = EXCLUDED.auto_close_days, business_hours = EXCLUDED.business_hours, \
           holidays = EXCLUDED.holidays, updated_at = now()",
    )
    .bind(tenant.as_uuid())
    .bind(settings.reopen_days)
    .bind(settings.auto_close_days)
    .bind(hours_to_json(&settings.opening_hours))
    .bind(&holidays)
    .execute(tx.conn())
    .await?;
    sqlx::query("DELETE FROM ticket_sla_policies WHERE tenant_id = $1")
        .bind(tenant.as_uuid())
        .execute(tx.conn())
        .await?;
    let n = settings.policies.len();
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    let priorities: Vec<&str> = settings
        .policies
        .iter()
        .map(|p| p.priority.as_str())
        .collect();
    let categories: Vec<Option<&str>> = settings
        .policies
        .iter()
        .map(|p| p.category.as_ref().map(Category::as_str))
        .collect();
    let first: Vec<i32> = settings
        .policies
        .iter()
        .map(|p| p.targets.first_response_minutes)
        .collect();
    let resolution: Vec<i32> = settings
        .policies
        .iter()
        .map(|p| p.targets.resolution_minutes)
        .collect();
    let raise: Vec<bool> = settings
        .policies
        .iter()
        .map(|p| p.targets.raise_priority_on_breach)
        .collect();
    sqlx::query(
        "INSERT INTO ticket_sla_policies (tenant_id, id, priority, category, first_response_minutes, resolution_minutes, raise_priority_on_breach) \
         SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::int[], $6::int[], $7::bool[])",
    )
    .bind(tenant.as_uuid())
    .bind(&ids)
    .bind(&priorities)
    .bind(&categories)
    .bind(&first)
    .bind(&resolution)
    .bind(&raise)
    .execute(tx.conn())
    .await
    .map_err(crate::categories::unknown_on_fk)?;
    get_settings(tx).await
}

/// The calendar SLA due times are counted on.
pub(crate) async fn load_calendar(
    tx: &mut TenantTx,
    time_zone: &str,
) -> Result<BusinessCalendar, TicketingError> {
    let s = stored(tx).await?;
    BusinessCalendar::new(time_zone, &s.hours, &s.holidays)
        .map_err(|e| TicketingError::Corrupt(format!("calendar: {e}")))
}

/// The targets for a ticket: the category's policy, else the priority's, else built in.
pub(crate) async fn targets_for(
    tx: &mut TenantTx,
    priority: Priority,
    category: &Category,
) -> Result<SlaTargets, TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT first_response_minutes, resolution_minutes, raise_priority_on_breach \
         FROM ticket_sla_policies WHERE tenant_id = $1 AND priority = $2 \
           AND (category = $3 OR category IS NULL) \
         ORDER BY category NULLS LAST LIMIT 1",
    )
    .bind(tenant.as_uuid())
    .bind(priority.as_str())
    .bind(category.as_str())
    .fetch_optional(tx.conn())
    .await?;
    Ok(match row {
        Some(r) => SlaTargets {
            first_response_minutes: r.try_get("first_response_minutes")?,
            resolution_minutes: r.try_get("resolution_minutes")?,
            raise_priority_on_breach: r.try_get("raise_priority_on_breach")?,
        },
        None => default_targets(priority),
    })
}

/// Days a resolved ticket may still be reopened by its subscriber.
pub(crate) async fn reopen_days(tx: &mut TenantTx) -> Result<i32, TicketingError> {
    Ok(stored(tx).await?.reopen_days)
}
