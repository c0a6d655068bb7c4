//! SaaS plans: the operator's price list (a price per active subscriber, included limits and
//! features) and where an ISP stands against its plan's limits.
//!
//! The limits themselves are enforced by PostgreSQL, by the statement that writes the counted
//! rows (`plan_limit_check` in the `saas_plans` migration), so every path — console, CSV import,
//! manifests, invitations — obeys them in its own transaction. [`PlanLimitReached::from_db`]
//! recognises that refusal.

use chrono::{DateTime, Utc};
use kabinet_core::Currency;
use kabinet_db::{DbError, TenantTx, sqlx};
use sqlx::postgres::{PgDatabaseError, PgRow};
use sqlx::{PgConnection, Row};

use crate::model::Tenant;
use crate::repo::{TENANT_COLUMNS, tenant_from_row};

/// A limit a plan includes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlanLimit {
    /// Subscribers on file (active or not).
    Subscribers,
    /// Active staff plus open invitations.
    StaffSeats,
    /// Ticket attachments plus the logo, in bytes.
    Storage,
}

impl PlanLimit {
    pub const ALL: [PlanLimit; 3] = [Self::Subscribers, Self::StaffSeats, Self::Storage];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subscribers => "subscribers",
            Self::StaffSeats => "staff_seats",
            Self::Storage => "storage",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// What a plan switches on beyond the basics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlanFeature {
    CustomDomains,
    OnlinePayments,
    Network,
}

impl PlanFeature {
    pub const ALL: [PlanFeature; 3] = [Self::CustomDomains, Self::OnlinePayments, Self::Network];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomDomains => "custom_domains",
            Self::OnlinePayments => "online_payments",
            Self::Network => "network",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// One plan of the price list. `None` limits are unlimited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaasPlan {
    pub code: String,
    pub name: String,
    /// Per active subscriber per month, in minor units of `currency`.
    pub price_per_subscriber: i64,
    pub currency: Currency,
    pub max_subscribers: Option<i32>,
    pub max_staff_seats: Option<i32>,
    pub max_storage_bytes: Option<i64>,
    pub features: Vec<PlanFeature>,
    pub archived: bool,
    /// ISPs on this plan now.
    pub tenants: i64,
}

impl SaasPlan {
    pub fn limit(&self, limit: PlanLimit) -> Option<i64> {
        match limit {
            PlanLimit::Subscribers => self.max_subscribers.map(i64::from),
            PlanLimit::StaffSeats => self.max_staff_seats.map(i64::from),
            PlanLimit::Storage => self.max_storage_bytes,
        }
    }
}

/// A plan as the operator writes it.
#[derive(Clone, Debug)]
pub struct PlanInput {
    pub name: String,
    pub price_per_subscriber: i64,
    pub currency: String,
    pub max_subscribers: Option<i32>,
    pub max_staff_seats: Option<i32>,
    pub max_storage_bytes: Option<i64>,
    pub features: Vec<PlanFeature>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("no plan {0}")]
    UnknownPlan(String),
    #[error("the plan code {0} is already taken")]
    CodeTaken(String),
    #[error("the plan {0} is archived")]
    Archived(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for PlanError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// A write refused because it would take the tenant past a limit of its plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanLimitReached {
    pub limit: PlanLimit,
    pub max: i64,
    /// What the tenant would have used with the refused write.
    pub current: i64,
}

/// The SQLSTATE `plan_limit_check` raises.
const PLAN_LIMIT_SQLSTATE: &str = "KBPL1";

impl PlanLimitReached {
    /// The limit behind `err`, when the database refused a write for one.
    pub fn from_db(err: &sqlx::Error) -> Option<Self> {
        let sqlx::Error::Database(db) = err else {
            return None;
        };
        let pg = db.try_downcast_ref::<PgDatabaseError>()?;
        if pg.code() != PLAN_LIMIT_SQLSTATE {
            return None;
        }
        let detail: serde_json::Value = serde_json::from_str(pg.detail()?).ok()?;
        Some(Self {
            limit: PlanLimit::parse(detail["limit"].as_str()?)?,
            max: detail["max"].as_i64()?,
            current: detail["current"].as_i64()?,
        })
    }
}

/// A write refused because the tenant's plan lacks the feature it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanFeatureMissing {
    pub feature: PlanFeature,
}

/// The SQLSTATE `plan_feature_check` raises.
const PLAN_FEATURE_SQLSTATE: &str = "KBPF1";

impl PlanFeatureMissing {
    /// The missing feature behind `err`, when the database refused a write for one.
    pub fn from_db(err: &sqlx::Error) -> Option<Self> {
        let sqlx::Error::Database(db) = err else {
            return None;
        };
        let pg = db.try_downcast_ref::<PgDatabaseError>()?;
        if pg.code() != PLAN_FEATURE_SQLSTATE {
            return None;
        }
        let detail: serde_json::Value = serde_json::from_str(pg.detail()?).ok()?;
        Some(Self {
            feature: PlanFeature::parse(detail["feature"].as_str()?)?,
        })
    }
}

/// Refuses (SQLSTATE `KBPF1`, see [`PlanFeatureMissing`]) unless the tenant's plan includes
/// `feature`: for a path that must stop before it does anything outside the database.
pub async fn require_feature(tx: &mut TenantTx, feature: PlanFeature) -> Result<(), DbError> {
    sqlx::query("SELECT plan_feature_check($1, $2)")
        .bind(tx.tenant().as_uuid())
        .bind(feature.as_str())
        .execute(tx.conn())
        .await?;
    Ok(())
}

const PLAN_COLUMNS: &str = "p.code, p.name, p.price_per_subscriber, p.currency, p.max_subscribers, \
     p.max_staff_seats, p.max_storage_bytes, p.features, p.archived, \
     (SELECT count(*) FROM tenants t WHERE t.saas_plan = p.code) AS tenants";

fn plan_from_row(row: &PgRow) -> Result<SaasPlan, sqlx::Error> {
    let decode =
        |what: &str, e: String| sqlx::Error::Decode(format!("saas_plans.{what}: {e}").into());
    let currency: String = row.try_get("currency")?;
    let features: Vec<String> = row.try_get("features")?;
    let mut features = features
        .iter()
        .map(|f| PlanFeature::parse(f).ok_or_else(|| decode("features", f.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    features.sort();
    Ok(SaasPlan {
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        price_per_subscriber: row.try_get("price_per_subscriber")?,
        currency: Currency::parse(&currency).map_err(|e| decode("currency", e.to_string()))?,
        max_subscribers: row.try_get("max_subscribers")?,
        max_staff_seats: row.try_get("max_staff_seats")?,
        max_storage_bytes: row.try_get("max_storage_bytes")?,
        features,
        archived: row.try_get("archived")?,
        tenants: row.try_get("tenants")?,
    })
}

/// The price list, archived plans last (or left out). One statement.
pub async fn list_plans(
    conn: &mut PgConnection,
    include_archived: bool,
) -> Result<Vec<SaasPlan>, PlanError> {
    let rows = sqlx::query(&format!(
        "SELECT {PLAN_COLUMNS} FROM saas_plans p WHERE $1 OR NOT p.archived \
         ORDER BY p.archived, p.price_per_subscriber DESC, p.code"
    ))
    .bind(include_archived)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(plan_from_row).collect::<Result<_, _>>()?)
}

pub async fn find_plan(conn: &mut PgConnection, code: &str) -> Result<SaasPlan, PlanError> {
    let row = sqlx::query(&format!(
        "SELECT {PLAN_COLUMNS} FROM saas_plans p WHERE p.code = $1"
    ))
    .bind(code)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| PlanError::UnknownPlan(code.to_owned()))?;
    Ok(plan_from_row(&row)?)
}

/// Whether a new ISP may choose `code` (signup and new manifests): it exists and is not archived.
pub async fn check_offered_plan(conn: &mut PgConnection, code: &str) -> Result<(), PlanError> {
    let plan = find_plan(conn, code).await?;
    if plan.archived {
        return Err(PlanError::Archived(plan.code));
    }
    Ok(())
}

fn invalid(field: &'static str, reason: &str) -> PlanError {
    PlanError::Invalid {
        field,
        reason: reason.to_owned(),
    }
}

/// Checks an operator's plan and returns the name and currency to store.
fn check_input(input: &PlanInput) -> Result<(String, Currency), PlanError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid("name", "must be 1 to 100 characters"));
    }
    if input.price_per_subscriber < 0 {
        return Err(invalid("price_per_subscriber", "must not be negative"));
    }
    let currency = Currency::parse(input.currency.trim())
        .map_err(|_| invalid("currency", "must be an ISO 4217 code such as RUB"))?;
    if input.max_subscribers.is_some_and(|m| m < 0) {
        return Err(invalid("max_subscribers", "must not be negative"));
    }
    if input.max_staff_seats.is_some_and(|m| m < 1) {
        return Err(invalid("max_staff_seats", "a plan has at least one seat"));
    }
    if input.max_storage_bytes.is_some_and(|m| m < 0) {
        return Err(invalid("max_storage_bytes", "must not be negative"));
    }
    Ok((name.to_owned(), currency))
}

fn feature_codes(features: &[PlanFeature]) -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = features.iter().map(|f| f.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// Adds a plan to the price list. Codes are DNS-label-like and permanent.
pub async fn create_plan(
    conn: &mut PgConnection,
    code: &str,
    input: &PlanInput,
) -> Result<SaasPlan, PlanError> {
    let code = code.trim();
    let code_ok = (1..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !code.starts_with('-');
    if !code_ok {
        return Err(invalid(
            "code",
            "use 1–32 lowercase letters, digits and hyphens, not starting with a hyphen",
        ));
    }
    let (name, currency) = check_input(input)?;
    let inserted = sqlx::query(
        "INSERT INTO saas_plans (code, name, price_per_subscriber, currency, max_subscribers, \
           max_staff_seats, max_storage_bytes, features) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO NOTHING",
    )
    .bind(code)
    .bind(&name)
    .bind(input.price_per_subscriber)
    .bind(currency.code())
    .bind(input.max_subscribers)
    .bind(input.max_staff_seats)
    .bind(input.max_storage_bytes)
    .bind(feature_codes(&input.features))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(PlanError::CodeTaken(code.to_owned()));
    }
    find_plan(conn, code).await
}

/// Changes a plan's name, price, limits and features; returns it before and after. A lower
/// limit applies to new writes only: nothing an ISP has is taken away.
pub async fn update_plan(
    conn: &mut PgConnection,
    code: &str,
    input: &PlanInput,
    archived: bool,
) -> Result<(SaasPlan, SaasPlan), PlanError> {
    let (name, currency) = check_input(input)?;
    let before = sqlx::query(&format!(
        "SELECT {PLAN_COLUMNS} FROM saas_plans p WHERE p.code = $1 FOR UPDATE"
    ))
    .bind(code)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| PlanError::UnknownPlan(code.to_owned()))?;
    let before = plan_from_row(&before)?;
    sqlx::query(
        "UPDATE saas_plans SET name = $2, price_per_subscriber = $3, currency = $4, \
           max_subscribers = $5, max_staff_seats = $6, max_storage_bytes = $7, features = $8, \
           archived = $9, updated_at = now() \
         WHERE code = $1",
    )
    .bind(code)
    .bind(&name)
    .bind(input.price_per_subscriber)
    .bind(currency.code())
    .bind(input.max_subscribers)
    .bind(input.max_staff_seats)
    .bind(input.max_storage_bytes)
    .bind(feature_codes(&input.features))
    .bind(archived)
    .execute(&mut *conn)
    .await?;
    let after = find_plan(conn, code).await?;
    Ok((before, after))
}

/// Moves the tenant `tx` is scoped to onto another (not archived) plan, in that transaction so
/// the caller's audit entry lands with it. Returns the tenant before and after.
pub async fn change_tenant_plan(
    tx: &mut TenantTx,
    code: &str,
) -> Result<(Tenant, Tenant), PlanError> {
    check_offered_plan(tx.conn(), code).await?;
    let row = sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1 FOR UPDATE"
    ))
    .bind(tx.tenant().as_uuid())
    .fetch_one(tx.conn())
    .await?;
    let before = tenant_from_row(&row)?;
    sqlx::query("UPDATE tenants SET saas_plan = $2, updated_at = now() WHERE id = $1")
        .bind(before.id.as_uuid())
        .bind(code)
        .execute(tx.conn())
        .await?;
    let after = Tenant {
        saas_plan: code.to_owned(),
        ..before.clone()
    };
    Ok((before, after))
}

/// How close to a limit a tenant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LimitWarning {
    None,
    /// At least 80 % used.
    Approaching,
    /// At least 95 % used (or at the limit).
    Critical,
}

impl LimitWarning {
    /// The warning for `used` of `max` (`None` = unlimited).
    pub fn of(used: i64, max: Option<i64>) -> Self {
        match max {
            None => Self::None,
            Some(max) if max <= 0 || used * 100 >= max * 95 => Self::Critical,
            Some(max) if used * 100 >= max * 80 => Self::Approaching,
            Some(_) => Self::None,
        }
    }
}

/// One limit as the ISP's console shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitUsage {
    pub limit: PlanLimit,
    pub used: i64,
    pub max: Option<i64>,
    pub warning: LimitWarning,
}

/// The ISP's plan page: its plan, each limit's usage and the worst warning.
#[derive(Clone, Debug)]
pub struct PlanStatus {
    pub plan: SaasPlan,
    pub usage: Vec<LimitUsage>,
    pub warning: LimitWarning,
    pub measured_at: DateTime<Utc>,
}

/// Where the tenant `tx` is scoped to stands against its plan, counted now. One statement.
pub async fn plan_status(tx: &mut TenantTx) -> Result<PlanStatus, PlanError> {
    let row = sqlx::query(&format!(
        "SELECT {PLAN_COLUMNS}, \
           plan_usage(te.id, 'subscribers') AS used_subscribers, \
           plan_usage(te.id, 'staff_seats') AS used_staff_seats, \
           plan_usage(te.id, 'storage') AS used_storage, now() AS measured_at \
         FROM tenants te JOIN saas_plans p ON p.code = te.saas_plan WHERE te.id = $1"
    ))
    .bind(tx.tenant().as_uuid())
    .fetch_one(tx.conn())
    .await?;
    let plan = plan_from_row(&row)?;
    let mut usage = Vec::with_capacity(3);
    for (limit, column) in [
        (PlanLimit::Subscribers, "used_subscribers"),
        (PlanLimit::StaffSeats, "used_staff_seats"),
        (PlanLimit::Storage, "used_storage"),
    ] {
        let used: i64 = row.try_get(column)?;
        let max = plan.limit(limit);
        usage.push(LimitUsage {
            limit,
            used,
            max,
            warning: LimitWarning::of(used, max),
        });
    }
    let warning = usage
        .iter()
        .map(|u| u.warning)
        .max()
        .unwrap_or(LimitWarning::None);
    Ok(PlanStatus {
        plan,
        usage,
        warning,
        measured_at: row.try_get("measured_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_start_at_eighty_and_ninety_five_percent() {
        assert_eq!(LimitWarning::of(79, Some(100)), LimitWarning::None);
        assert_eq!(LimitWarning::of(80, Some(100)), LimitWarning::Approaching);
        assert_eq!(LimitWarning::of(94, Some(100)), LimitWarning::Approaching);
        assert_eq!(LimitWarning::of(95, Some(100)), LimitWarning::Critical);
        assert_eq!(LimitWarning::of(120, Some(100)), LimitWarning::Critical);
        assert_eq!(LimitWarning::of(1_000_000, None), LimitWarning::None);
        // Four of five seats is 80 %.
        assert_eq!(LimitWarning::of(4, Some(5)), LimitWarning::Approaching);
    }

    #[test]
    fn limits_and_features_have_stable_names() {
        for l in PlanLimit::ALL {
            assert_eq!(PlanLimit::parse(l.as_str()), Some(l));
        }
        for f in PlanFeature::ALL {
            assert_eq!(PlanFeature::parse(f.as_str()), Some(f));
        }
        assert_eq!(PlanFeature::parse("teleport"), None);
    }
}
