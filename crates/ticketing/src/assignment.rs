//! Auto-assignment: agent groups, their skills (the ticket categories they handle) and agents'
//! shifts (`agent_groups`, `agent_group_members`, `agent_shifts`).
//!
//! Routing ([`route`]): a ticket belongs to the group that lists its category (the lowest
//! `position`, then the oldest group, when several do); a group listing no category is a default
//! group for every category of the ISP nobody lists, built-in or the ISP's own. Its unassigned active tickets (new, open) go to the
//! group's members who are on shift, are active and may reply to tickets: round-robin (each
//! next ticket to the member after the group's cursor, by staff id) or least-loaded (the fewest
//! active tickets, ties in round-robin order). Assignment is one statement per group: the pool
//! is numbered oldest first, each agent gets "slots" (round-robin: turn 0, 1, 2 …; least-loaded:
//! load, load + 1 …) numbered by (level, turn), and ticket n takes slot n; that is exactly what
//! handing out the tickets one by one would do.
//!
//! INVARIANT: safe on several nodes at once. Every pass locks the tenant's group rows
//! `FOR UPDATE` (in id order) before reading the cursor, and takes tickets
//! `FOR UPDATE SKIP LOCKED` with `assignee_staff_id IS NULL` re-checked under the lock, so no
//! ticket is assigned twice and the cursor moves once per ticket. Each automatic assignment is
//! an `assignee` event with no actor (the system), like the SLA worker's events.
//!
//! Shifts: an agent starts and ends one in the console. Ending it (or being deactivated, seen by
//! the worker) returns their active tickets that are not waiting on the customer to their
//! group's pool, where on-shift members pick them up at once or as soon as someone starts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kabinet_access::{Permission, Role};
use kabinet_core::StaffId;
use kabinet_db::{DbError, TenantTx, constraint_name, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::model::{Category, StaffRef};

/// At most this many tickets per group and pass (the worker comes back for the rest).
const BATCH: i64 = 1000;
const NAME_MAX: usize = 80;
const MEMBERS_MAX: usize = 200;
const POSITION_MAX: i32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum AssignmentError {
    #[error("agent group not found")]
    NotFound,
    #[error("{field} {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("unknown ticket category {0:?}")]
    UnknownCategory(String),
    #[error("no active staff member with id {0}")]
    UnknownMember(Uuid),
    #[error("a group with this name already exists")]
    NameTaken,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<AssignmentError> for crate::TicketingError {
    fn from(e: AssignmentError) -> Self {
        match e {
            AssignmentError::Db(db) => Self::Db(db),
            // The worker and ticket creation never validate a group.
            other => Self::Corrupt(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for AssignmentError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// How a group picks the agent for its next ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssignmentMode {
    RoundRobin,
    LeastLoaded,
}

impl AssignmentMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::RoundRobin => "round_robin",
            Self::LeastLoaded => "least_loaded",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "round_robin" => Some(Self::RoundRobin),
            "least_loaded" => Some(Self::LeastLoaded),
            _ => None,
        }
    }
}

/// A group as the console writes it.
#[derive(Clone, Debug)]
pub struct GroupSpec {
    pub name: String,
    pub mode: AssignmentMode,
    /// Category codes as sent (checked against [`Category`]).
    pub categories: Vec<String>,
    pub position: i32,
    pub auto_assign: bool,
    pub members: Vec<Uuid>,
}

#[derive(Clone, Debug)]
pub struct GroupMember {
    pub staff: StaffRef,
    pub on_shift: bool,
    /// Active tickets (new, open, waiting on the customer) assigned to them.
    pub load: i64,
}

#[derive(Clone, Debug)]
pub struct AgentGroup {
    pub id: Uuid,
    pub name: String,
    pub mode: AssignmentMode,
    pub categories: Vec<Category>,
    pub position: i32,
    pub auto_assign: bool,
    pub members: Vec<GroupMember>,
    /// Unassigned active tickets routed to the group now.
    pub waiting: i64,
    pub assigned_total: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One agent's shift state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shift {
    pub on_shift: bool,
    /// The open shift's start.
    pub started_at: Option<DateTime<Utc>>,
    /// When the last shift ended (while off shift).
    pub ended_at: Option<DateTime<Utc>>,
}

/// What a shift toggle did.
#[derive(Clone, Debug)]
pub struct ShiftChange {
    pub shift: Shift,
    /// Whether the state changed (starting twice changes nothing).
    pub changed: bool,
    /// Tickets taken back from the agent (ending a shift).
    pub released: i64,
    /// Tickets assigned by the pass that followed (to the agent or to others).
    pub assigned: i64,
}

#[derive(Clone, Debug)]
pub struct OnShiftAgent {
    pub staff: StaffRef,
    pub started_at: DateTime<Utc>,
    pub load: i64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AssignReport {
    /// Tickets taken back from deactivated agents.
    pub released: i64,
    pub assigned: i64,
}

/// The part of a group routing needs.
#[derive(Clone, Debug)]
pub struct RouteGroup {
    pub id: Uuid,
    pub categories: Vec<Category>,
    pub position: i32,
    pub created_at: DateTime<Utc>,
}

/// Which group each category's tickets belong to. A group that lists a category wins over a
/// default group (no categories); among equals the lowest `position`, then the oldest, then the
/// smallest id. `categories` are the ISP's categories a default group takes: every one of them
/// (built-in and custom, active or not, since an inactive category's tickets still need
/// someone), not only the built-ins.
pub fn route(groups: &[RouteGroup], categories: &[Category]) -> HashMap<Category, Uuid> {
    let mut ordered: Vec<&RouteGroup> = groups.iter().collect();
    ordered.sort_by_key(|g| (g.categories.is_empty(), g.position, g.created_at, g.id));
    let mut routes = HashMap::new();
    for g in ordered {
        let handles: &[Category] = if g.categories.is_empty() {
            categories
        } else {
            &g.categories
        };
        for c in handles {
            routes.entry(c.clone()).or_insert(g.id);
        }
    }
    routes
}

struct Clean {
    name: String,
    categories: Vec<String>,
    members: Vec<Uuid>,
}

fn clean(spec: &GroupSpec) -> Result<Clean, AssignmentError> {
    let name = spec.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.contains(['\n', '\r', '\t']) {
        return Err(AssignmentError::Invalid {
            field: "name",
            reason: format!("must be 1–{NAME_MAX} characters on one line"),
        });
    }
    if !(0..=POSITION_MAX).contains(&spec.position) {
        return Err(AssignmentError::Invalid {
            field: "position",
            reason: format!("must be between 0 and {POSITION_MAX}"),
        });
    }
    let mut categories: Vec<String> = Vec::new();
    for raw in &spec.categories {
        let c = Category::parse(raw.trim())
            .ok_or_else(|| AssignmentError::UnknownCategory(raw.clone()))?;
        let code = c.as_str().to_owned();
        if !categories.contains(&code) {
            categories.push(code);
        }
    }
    if spec.members.len() > MEMBERS_MAX {
        return Err(AssignmentError::Invalid {
            field: "members",
            reason: format!("at most {MEMBERS_MAX}"),
        });
    }
    let mut members = spec.members.clone();
    members.sort();
    members.dedup();
    Ok(Clean {
        name,
        categories,
        members,
    })
}

fn name_taken(e: sqlx::Error) -> AssignmentError {
    if constraint_name(&e) == Some("agent_groups_name_key") {
        AssignmentError::NameTaken
    } else if constraint_name(&e) == Some("agent_groups_categories_fkey") {
        AssignmentError::UnknownCategory("not one of the ISP's categories".into())
    } else {
        e.into()
    }
}

/// Built-in role names whose holders may reply to tickets, and the permission custom roles need.
pub(crate) fn reply_grants() -> (Vec<&'static str>, String) {
    let roles = Role::ALL
        .iter()
        .filter(|r| r.permissions().contains(&Permission::TicketsReply))
        .map(|r| r.as_str())
        .collect();
    (roles, Permission::TicketsReply.name())
}

/// SQL condition on staff `s`: active and allowed to reply ($roles, $perm bound by the caller).
pub(crate) fn eligible(roles: &str, perm: &str) -> String {
    format!(
        "s.active AND (EXISTS (SELECT 1 FROM staff_roles r WHERE r.tenant_id = s.tenant_id \
           AND r.staff_id = s.id AND r.role = ANY({roles})) \
         OR EXISTS (SELECT 1 FROM staff_custom_roles sc JOIN custom_roles cr \
           ON cr.tenant_id = sc.tenant_id AND cr.id = sc.role_id \
           WHERE sc.tenant_id = s.tenant_id AND sc.staff_id = s.id AND {perm} = ANY(cr.permissions)))"
    )
}

const LOAD: &str = "(SELECT count(*) FROM tickets lt WHERE lt.tenant_id = s.tenant_id \
     AND lt.assignee_staff_id = s.id AND lt.status IN ('new', 'open', 'waiting_on_customer'))";

/// Checks that every member is an active staff member of this ISP (another ISP's id reads as
/// unknown).
async fn check_members(tx: &mut TenantTx, members: &[Uuid]) -> Result<(), AssignmentError> {
    let tenant = tx.tenant();
    let missing: Option<Uuid> = sqlx::query_scalar(
        "SELECT m FROM unnest($2::uuid[]) AS m \
         WHERE NOT EXISTS (SELECT 1 FROM staff s WHERE s.tenant_id = $1 AND s.id = m AND s.active) \
         LIMIT 1",
    )
    .bind(tenant.as_uuid())
    .bind(members)
    .fetch_optional(tx.conn())
    .await?;
    match missing {
        Some(m) => Err(AssignmentError::UnknownMember(m)),
        None => Ok(()),
    }
}

async fn set_members(
    tx: &mut TenantTx,
    group: Uuid,
    members: &[Uuid],
) -> Result<(), AssignmentError> {
    let tenant = tx.tenant();
    sqlx::query(
        "DELETE FROM agent_group_members WHERE tenant_id = $1 AND group_id = $2 \
         AND NOT (staff_id = ANY($3))",
    )
    .bind(tenant.as_uuid())
    .bind(group)
    .bind(members)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO agent_group_members (tenant_id, group_id, staff_id) \
         SELECT $1, $2, unnest($3::uuid[]) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(group)
    .bind(members)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The ISP's groups in routing order, with members (by name), their shift and load, and each
/// group's waiting tickets.
pub async fn list_groups(tx: &mut TenantTx) -> Result<Vec<AgentGroup>, AssignmentError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT g.id, g.name, g.mode, g.categories, g.position, g.auto_assign, g.assigned_total, \
           g.created_at, g.updated_at \
         FROM agent_groups g WHERE g.tenant_id = $1 \
         ORDER BY cardinality(g.categories) = 0, g.position, g.created_at, g.id",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    let members = sqlx::query(&format!(
        "SELECT m.group_id, s.id, s.display_name, \
           EXISTS (SELECT 1 FROM agent_shifts sh WHERE sh.tenant_id = s.tenant_id \
             AND sh.staff_id = s.id AND sh.ended_at IS NULL) AS on_shift, \
           {LOAD} AS load \
         FROM agent_group_members m JOIN staff s ON s.tenant_id = m.tenant_id AND s.id = m.staff_id \
         WHERE m.tenant_id = $1 ORDER BY s.display_name, s.id"
    ))
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    let unassigned = sqlx::query(
        "SELECT category, count(*) AS n FROM tickets WHERE tenant_id = $1 \
         AND assignee_staff_id IS NULL AND status IN ('new', 'open') GROUP BY category",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    let mut groups = rows.iter().map(group_row).collect::<Result<Vec<_>, _>>()?;
    // Only the categories with waiting tickets matter to the counts.
    let waiting_categories = unassigned
        .iter()
        .map(|r| r.try_get::<String, _>("category"))
        .collect::<Result<Vec<_>, _>>()?
        .iter()
        .filter_map(|c| Category::parse(c))
        .collect::<Vec<_>>();
    let routes = route(&route_groups(&groups), &waiting_categories);
    for r in &unassigned {
        let category: String = r.try_get("category")?;
        let n: i64 = r.try_get("n")?;
        if let Some(gid) = Category::parse(&category).and_then(|c| routes.get(&c))
            && let Some(g) = groups.iter_mut().find(|g| g.id == *gid)
        {
            g.waiting += n;
        }
    }
    for r in &members {
        let gid: Uuid = r.try_get("group_id")?;
        if let Some(g) = groups.iter_mut().find(|g| g.id == gid) {
            g.members.push(GroupMember {
                staff: StaffRef {
                    id: StaffId(r.try_get("id")?),
                    display_name: r.try_get("display_name")?,
                },
                on_shift: r.try_get("on_shift")?,
                load: r.try_get("load")?,
            });
        }
    }
    Ok(groups)
}

fn route_groups(groups: &[AgentGroup]) -> Vec<RouteGroup> {
    groups
        .iter()
        .map(|g| RouteGroup {
            id: g.id,
            categories: g.categories.clone(),
            position: g.position,
            created_at: g.created_at,
        })
        .collect()
}

fn group_row(r: &PgRow) -> Result<AgentGroup, AssignmentError> {
    let mode: String = r.try_get("mode")?;
    let categories: Vec<String> = r.try_get("categories")?;
    Ok(AgentGroup {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        mode: AssignmentMode::parse(&mode).unwrap_or(AssignmentMode::RoundRobin),
        // A code this build no longer knows routes nothing.
        categories: categories
            .iter()
            .filter_map(|c| Category::parse(c))
            .collect(),
        position: r.try_get("position")?,
        auto_assign: r.try_get("auto_assign")?,
        members: Vec::new(),
        waiting: 0,
        assigned_total: r.try_get("assigned_total")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

async fn get_group(tx: &mut TenantTx, id: Uuid) -> Result<AgentGroup, AssignmentError> {
    list_groups(tx)
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or(AssignmentError::NotFound)
}

/// Creates a group, then hands out the tickets now waiting for it.
pub async fn create_group(
    tx: &mut TenantTx,
    spec: &GroupSpec,
    now: DateTime<Utc>,
) -> Result<AgentGroup, AssignmentError> {
    let c = clean(spec)?;
    check_members(tx, &c.members).await?;
    let tenant = tx.tenant();
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO agent_groups (tenant_id, id, name, mode, categories, position, auto_assign, \
           created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&c.name)
    .bind(spec.mode.as_str())
    .bind(&c.categories)
    .bind(spec.position)
    .bind(spec.auto_assign)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(name_taken)?;
    set_members(tx, id, &c.members).await?;
    assign_waiting(tx, now).await?;
    get_group(tx, id).await
}

/// Replaces a group's settings and members, then hands out the tickets now waiting. Returns the
/// group before and after.
pub async fn update_group(
    tx: &mut TenantTx,
    id: Uuid,
    spec: &GroupSpec,
    now: DateTime<Utc>,
) -> Result<(AgentGroup, AgentGroup), AssignmentError> {
    let c = clean(spec)?;
    let before = get_group(tx, id).await?;
    check_members(tx, &c.members).await?;
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE agent_groups SET name = $3, mode = $4, categories = $5, position = $6, \
           auto_assign = $7, updated_at = $8 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&c.name)
    .bind(spec.mode.as_str())
    .bind(&c.categories)
    .bind(spec.position)
    .bind(spec.auto_assign)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(name_taken)?;
    set_members(tx, id, &c.members).await?;
    assign_waiting(tx, now).await?;
    let after = get_group(tx, id).await?;
    Ok((before, after))
}

/// Deletes a group (its tickets keep their assignees; its categories go to the next matching
/// group). Returns it as it was.
pub async fn delete_group(tx: &mut TenantTx, id: Uuid) -> Result<AgentGroup, AssignmentError> {
    let group = get_group(tx, id).await?;
    let tenant = tx.tenant();
    sqlx::query("DELETE FROM agent_groups WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_uuid())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(group)
}

/// The agent's shift state.
pub async fn my_shift(tx: &mut TenantTx, staff: StaffId) -> Result<Shift, AssignmentError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT started_at, ended_at FROM agent_shifts WHERE tenant_id = $1 AND staff_id = $2 \
         ORDER BY ended_at IS NULL DESC, started_at DESC LIMIT 1",
    )
    .bind(tenant.as_uuid())
    .bind(staff.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    Ok(match row {
        None => Shift {
            on_shift: false,
            started_at: None,
            ended_at: None,
        },
        Some(r) => {
            let ended_at: Option<DateTime<Utc>> = r.try_get("ended_at")?;
            Shift {
                on_shift: ended_at.is_none(),
                started_at: if ended_at.is_none() {
                    Some(r.try_get("started_at")?)
                } else {
                    None
                },
                ended_at,
            }
        }
    })
}

/// Starts or ends the agent's shift. Starting hands the waiting tickets of the agent's groups
/// out at once; ending returns the agent's active tickets that are not waiting on the customer
/// (and belong to a group with auto-assignment on) to the pool and hands them to whoever is
/// still on shift.
pub async fn set_shift(
    tx: &mut TenantTx,
    staff: StaffId,
    on_shift: bool,
    now: DateTime<Utc>,
) -> Result<ShiftChange, AssignmentError> {
    let tenant = tx.tenant();
    // The group locks come first, as in every pass (see the module's INVARIANT).
    let groups = lock_groups(tx).await?;
    let changed = if on_shift {
        sqlx::query(
            "INSERT INTO agent_shifts (tenant_id, id, staff_id, started_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, staff_id) WHERE ended_at IS NULL DO NOTHING",
        )
        .bind(tenant.as_uuid())
        .bind(Uuid::now_v7())
        .bind(staff.as_uuid())
        .bind(now)
        .execute(tx.conn())
        .await?
        .rows_affected()
            > 0
    } else {
        sqlx::query(
            "UPDATE agent_shifts SET ended_at = greatest($3, started_at) \
             WHERE tenant_id = $1 AND staff_id = $2 AND ended_at IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .bind(now)
        .execute(tx.conn())
        .await?
        .rows_affected()
            > 0
    };
    let released = if changed && !on_shift {
        release(tx, &groups, Some(staff), now).await?
    } else {
        0
    };
    let assigned = if changed {
        assign_groups(tx, &groups, now).await?
    } else {
        0
    };
    Ok(ShiftChange {
        shift: my_shift(tx, staff).await?,
        changed,
        released,
        assigned,
    })
}

/// Who is on shift now, with their load, by name.
pub async fn on_shift(tx: &mut TenantTx) -> Result<Vec<OnShiftAgent>, AssignmentError> {
    let tenant = tx.tenant();
    let (roles, perm) = reply_grants();
    let rows = sqlx::query(&format!(
        "SELECT s.id, s.display_name, sh.started_at, {LOAD} AS load \
         FROM agent_shifts sh JOIN staff s ON s.tenant_id = sh.tenant_id AND s.id = sh.staff_id \
         WHERE sh.tenant_id = $1 AND sh.ended_at IS NULL AND {} \
         ORDER BY s.display_name, s.id",
        eligible("$2", "$3")
    ))
    .bind(tenant.as_uuid())
    .bind(&roles)
    .bind(&perm)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OnShiftAgent {
                staff: StaffRef {
                    id: StaffId(r.try_get("id")?),
                    display_name: r.try_get("display_name")?,
                },
                started_at: r.try_get("started_at")?,
                load: r.try_get("load")?,
            })
        })
        .collect()
}

/// Locks and loads the tenant's groups (routing fields and mode), in id order, with every
/// category code of the ISP (what a default group takes). One statement; no groups, no rows.
pub(crate) async fn lock_groups(tx: &mut TenantTx) -> Result<LockedGroups, AssignmentError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT id, categories, position, auto_assign, created_at, \
           ARRAY(SELECT c.code FROM ticket_categories c WHERE c.tenant_id = $1 ORDER BY c.code) \
             AS all_categories \
         FROM agent_groups WHERE tenant_id = $1 ORDER BY id FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    let categories = match rows.first() {
        Some(r) => r
            .try_get::<Vec<String>, _>("all_categories")?
            .iter()
            .filter_map(|c| Category::parse(c))
            .collect(),
        None => Vec::new(),
    };
    let groups = rows
        .iter()
        .map(|r| {
            let categories: Vec<String> = r.try_get("categories")?;
            Ok(LockedGroup {
                route: RouteGroup {
                    id: r.try_get("id")?,
                    categories: categories
                        .iter()
                        .filter_map(|c| Category::parse(c))
                        .collect(),
                    position: r.try_get("position")?,
                    created_at: r.try_get("created_at")?,
                },
                auto_assign: r.try_get("auto_assign")?,
            })
        })
        .collect::<Result<Vec<_>, AssignmentError>>()?;
    Ok(LockedGroups { groups, categories })
}

/// The tenant's groups as [`lock_groups`] locked them.
pub(crate) struct LockedGroups {
    groups: Vec<LockedGroup>,
    /// Every category code of the ISP, for default groups.
    categories: Vec<Category>,
}

struct LockedGroup {
    route: RouteGroup,
    auto_assign: bool,
}

/// The categories routed to each group with auto-assignment on.
pub(crate) fn auto_pools(locked: &LockedGroups) -> Vec<(Uuid, Vec<String>)> {
    let routes = route(
        &locked
            .groups
            .iter()
            .map(|g| g.route.clone())
            .collect::<Vec<_>>(),
        &locked.categories,
    );
    locked
        .groups
        .iter()
        .filter(|g| g.auto_assign)
        .map(|g| {
            let mut cats: Vec<String> = routes
                .iter()
                .filter(|(_, gid)| **gid == g.route.id)
                .map(|(c, _)| c.as_str().to_owned())
                .collect();
            cats.sort();
            (g.route.id, cats)
        })
        .filter(|(_, cats)| !cats.is_empty())
        .collect()
}

/// Returns to the pool the active, not-waiting tickets of auto-assigned categories held by
/// `staff` (ending a shift) or, with `None`, by any inactive staff member. One statement.
async fn release(
    tx: &mut TenantTx,
    groups: &LockedGroups,
    staff: Option<StaffId>,
    now: DateTime<Utc>,
) -> Result<i64, AssignmentError> {
    let categories: Vec<String> = auto_pools(groups)
        .into_iter()
        .flat_map(|(_, c)| c)
        .collect();
    if categories.is_empty() {
        return Ok(0);
    }
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "WITH released AS ( \
           UPDATE tickets t SET assignee_staff_id = NULL, updated_at = $3 \
           FROM tickets old \
           WHERE t.tenant_id = $1 AND old.tenant_id = $1 AND old.id = t.id \
             AND t.status IN ('new', 'open') AND t.category = ANY($2) \
             AND t.assignee_staff_id IS NOT NULL \
             AND (CASE WHEN $4::uuid IS NULL \
                  THEN EXISTS (SELECT 1 FROM staff s WHERE s.tenant_id = $1 \
                               AND s.id = t.assignee_staff_id AND NOT s.active) \
                  ELSE t.assignee_staff_id = $4 END) \
           RETURNING t.id, old.assignee_staff_id AS previous), \
         ev AS ( \
           INSERT INTO ticket_events (tenant_id, id, ticket_id, kind, old_value, new_value, created_at) \
           SELECT $1, gen_random_uuid(), r.id, 'assignee', r.previous::text, NULL, $3 FROM released r \
           RETURNING 1) \
         SELECT count(*) FROM ev",
    )
    .bind(tenant.as_uuid())
    .bind(&categories)
    .bind(now)
    .bind(staff.map(|s| s.as_uuid()))
    .fetch_one(tx.conn())
    .await?)
}

/// Hands out one group's waiting tickets (see the module doc). One statement.
async fn assign_group(
    tx: &mut TenantTx,
    group: Uuid,
    categories: &[String],
    now: DateTime<Utc>,
) -> Result<i64, AssignmentError> {
    let tenant = tx.tenant();
    let (roles, perm) = reply_grants();
    let sql = format!(
        "WITH g AS ( \
           SELECT mode, last_staff_id FROM agent_groups WHERE tenant_id = $1 AND id = $2), \
         agents AS ( \
           SELECT s.id AS staff_id, \
             row_number() OVER (ORDER BY (g.last_staff_id IS NOT NULL AND s.id <= g.last_staff_id), s.id) AS turn, \
             CASE WHEN g.mode = 'least_loaded' THEN {LOAD} ELSE 0 END AS load \
           FROM agent_group_members m CROSS JOIN g \
           JOIN staff s ON s.tenant_id = m.tenant_id AND s.id = m.staff_id \
           WHERE m.tenant_id = $1 AND m.group_id = $2 \
             AND EXISTS (SELECT 1 FROM agent_shifts sh WHERE sh.tenant_id = s.tenant_id \
                         AND sh.staff_id = s.id AND sh.ended_at IS NULL) \
             AND {eligible}), \
         locked AS MATERIALIZED ( \
           SELECT t.id, t.created_at FROM tickets t \
           WHERE t.tenant_id = $1 AND t.assignee_staff_id IS NULL AND t.status IN ('new', 'open') \
             AND t.category = ANY($3) AND EXISTS (SELECT 1 FROM agents) \
           ORDER BY t.created_at, t.id LIMIT $5 \
           FOR UPDATE OF t SKIP LOCKED), \
         pool AS MATERIALIZED (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM locked), \
         slots AS ( \
           SELECT a.staff_id, row_number() OVER (ORDER BY a.load + j.j, a.turn) AS n \
           FROM agents a CROSS JOIN generate_series(0, (SELECT count(*) FROM pool) - 1) AS j(j)), \
         done AS ( \
           UPDATE tickets t SET assignee_staff_id = s.staff_id, updated_at = $4 \
           FROM pool p JOIN slots s ON s.n = p.n \
           WHERE t.tenant_id = $1 AND t.id = p.id \
           RETURNING t.id, s.staff_id, p.n), \
         ev AS ( \
           INSERT INTO ticket_events (tenant_id, id, ticket_id, kind, old_value, new_value, created_at) \
           SELECT $1, gen_random_uuid(), d.id, 'assignee', NULL, d.staff_id::text, $4 FROM done d), \
         cursor AS ( \
           UPDATE agent_groups SET \
             last_staff_id = (SELECT staff_id FROM done ORDER BY n DESC LIMIT 1), \
             assigned_total = assigned_total + (SELECT count(*) FROM done) \
           WHERE tenant_id = $1 AND id = $2 AND EXISTS (SELECT 1 FROM done)) \
         SELECT count(*) FROM done",
        eligible = eligible("$6", "$7"),
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(tenant.as_uuid())
        .bind(group)
        .bind(categories)
        .bind(now)
        .bind(BATCH)
        .bind(&roles)
        .bind(&perm)
        .fetch_one(tx.conn())
        .await?)
}

async fn assign_groups(
    tx: &mut TenantTx,
    groups: &LockedGroups,
    now: DateTime<Utc>,
) -> Result<i64, AssignmentError> {
    let mut assigned = 0;
    for (group, categories) in auto_pools(groups) {
        assigned += assign_group(tx, group, &categories, now).await?;
    }
    Ok(assigned)
}

/// Hands out every waiting ticket of the ISP to on-shift agents. Called when a ticket is
/// created and when groups or shifts change; cheap when the ISP has no groups.
pub async fn assign_waiting(tx: &mut TenantTx, now: DateTime<Utc>) -> Result<i64, AssignmentError> {
    let groups = lock_groups(tx).await?;
    assign_groups(tx, &groups, now).await
}

/// The worker's pass for one tenant: ends the shifts of deactivated agents and returns their
/// active tickets to the pool, then hands out every waiting ticket. Idempotent; safe on several
/// nodes at once.
pub async fn run(tx: &mut TenantTx, now: DateTime<Utc>) -> Result<AssignReport, AssignmentError> {
    let groups = lock_groups(tx).await?;
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE agent_shifts sh SET ended_at = greatest($2, sh.started_at) FROM staff s \
         WHERE sh.tenant_id = $1 AND sh.ended_at IS NULL AND s.tenant_id = $1 \
           AND s.id = sh.staff_id AND NOT s.active",
    )
    .bind(tenant.as_uuid())
    .bind(now)
    .execute(tx.conn())
    .await?;
    let released = release(tx, &groups, None, now).await?;
    let assigned = assign_groups(tx, &groups, now).await?;
    Ok(AssignReport { released, assigned })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn group(n: u128, categories: &[Category], position: i32, day: u32) -> RouteGroup {
        RouteGroup {
            id: Uuid::from_u128(n),
            categories: categories.to_vec(),
            position,
            created_at: Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_listed_category_beats_the_default_group() {
        let routes = route(
            &[
                group(1, &[], 0, 1),
                group(2, &[Category::Payments, Category::Tariff], 5, 2),
            ],
            Category::ALL,
        );
        assert_eq!(routes[&Category::Payments], Uuid::from_u128(2));
        assert_eq!(routes[&Category::Tariff], Uuid::from_u128(2));
        assert_eq!(routes[&Category::Connectivity], Uuid::from_u128(1));
        assert_eq!(routes.len(), Category::ALL.len());
    }

    #[test]
    fn the_default_group_takes_the_isps_own_categories_too() {
        let fiber = Category::parse("fiber_install").expect("code");
        let tv = Category::parse("iptv_setup").expect("code");
        let mut isp: Vec<Category> = Category::ALL.to_vec();
        isp.extend([fiber.clone(), tv.clone()]);
        let routes = route(
            &[
                group(1, &[], 0, 1),
                group(2, std::slice::from_ref(&tv), 0, 2),
            ],
            &isp,
        );
        assert_eq!(routes[&fiber], Uuid::from_u128(1));
        assert_eq!(routes[&tv], Uuid::from_u128(2));
        assert_eq!(routes[&Category::Other], Uuid::from_u128(1));
        assert_eq!(routes.len(), isp.len());
    }

    #[test]
    fn lower_position_then_older_group_wins_a_shared_category() {
        let routes = route(
            &[
                group(1, &[Category::Speed], 2, 1),
                group(2, &[Category::Speed, Category::Other], 1, 2),
                group(3, &[Category::Other], 1, 1),
            ],
            Category::ALL,
        );
        assert_eq!(routes[&Category::Speed], Uuid::from_u128(2));
        assert_eq!(routes[&Category::Other], Uuid::from_u128(3));
        assert!(!routes.contains_key(&Category::Payments));
    }

    #[test]
    fn no_groups_route_nothing() {
        assert!(route(&[], Category::ALL).is_empty());
    }

    #[test]
    fn categories_are_checked_and_deduplicated() {
        let mut spec = GroupSpec {
            name: "  Техподдержка ".into(),
            mode: AssignmentMode::RoundRobin,
            categories: vec!["speed".into(), "speed".into(), "connectivity".into()],
            position: 0,
            auto_assign: true,
            members: vec![Uuid::from_u128(2), Uuid::from_u128(1), Uuid::from_u128(2)],
        };
        let c = clean(&spec).expect("clean");
        assert_eq!(c.name, "Техподдержка");
        assert_eq!(c.categories, ["speed", "connectivity"]);
        assert_eq!(c.members, [Uuid::from_u128(1), Uuid::from_u128(2)]);
        // The shape is checked here; whether the ISP has the category, by PostgreSQL.
        spec.categories.push("Bad code".into());
        assert!(matches!(
            clean(&spec),
            Err(AssignmentError::UnknownCategory(c)) if c == "Bad code"
        ));
        spec.categories.clear();
        spec.name = " ".into();
        assert!(matches!(
            clean(&spec),
            Err(AssignmentError::Invalid { field: "name", .. })
        ));
    }

    #[test]
    fn modes_round_trip() {
        for m in [AssignmentMode::RoundRobin, AssignmentMode::LeastLoaded] {
            assert_eq!(AssignmentMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(AssignmentMode::parse("random"), None);
    }
}
