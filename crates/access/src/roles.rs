//! Staff administration: the staff list, custom roles assembled from the permission catalogue,
//! role assignment, deactivation and the ISP's two-factor rule.
//!
//! Every change moves the ISP's policy version in its own transaction (triggers on the grant
//! tables), so [`crate::Authorizer`] on every node answers by the new rules from the commit on.
//! Two rules keep the owner's authority intact: nobody grants, edits or takes away permissions
//! they do not hold themselves, and nobody changes their own role or deactivates themselves.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use kabinet_core::StaffId;
use kabinet_db::{TenantTx, sqlx};
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

use crate::{AccessError, Permission, Role};

/// A custom role as stored.
#[derive(Clone, Debug, Serialize)]
pub struct CustomRole {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    #[serde(serialize_with = "permission_names")]
    pub permissions: Vec<Permission>,
    /// Staff members holding it.
    pub members: i64,
    #[serde(skip)]
    pub updated_at: DateTime<Utc>,
}

fn permission_names<S: serde::Serializer>(p: &[Permission], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(p.iter().map(Permission::name))
}

/// What a custom role is made of, validated.
#[derive(Clone, Debug)]
pub struct RoleInput {
    pub name: String,
    pub description: String,
    pub permissions: Vec<Permission>,
}

impl RoleInput {
    pub fn new(
        name: &str,
        description: &str,
        permissions: Vec<Permission>,
    ) -> Result<Self, AccessError> {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() || name.chars().count() > 80 {
            return Err(AccessError::Invalid {
                field: "name",
                reason: "1 to 80 characters".into(),
            });
        }
        let description = description.trim().to_owned();
        if description.chars().count() > 500 {
            return Err(AccessError::Invalid {
                field: "description",
                reason: "at most 500 characters".into(),
            });
        }
        if permissions.is_empty() {
            return Err(AccessError::Invalid {
                field: "permissions",
                reason: "a role needs at least one permission".into(),
            });
        }
        let set: BTreeSet<String> = permissions.iter().map(Permission::name).collect();
        Ok(Self {
            name,
            description,
            // Catalogue order, duplicates merged.
            permissions: Permission::ALL
                .into_iter()
                .filter(|p| set.contains(&p.name()))
                .collect(),
        })
    }
}

/// A role a staff member can be given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleAssignment {
    BuiltIn(Role),
    Custom(Uuid),
}

#[derive(Clone, Debug, Serialize)]
pub struct CustomRoleRef {
    pub id: Uuid,
    pub name: String,
}

/// A staff member as the owner manages them.
#[derive(Clone, Debug, Serialize)]
pub struct StaffMember {
    pub id: StaffId,
    pub email: String,
    pub display_name: String,
    pub active: bool,
    #[serde(serialize_with = "role_names")]
    pub roles: Vec<Role>,
    pub custom_roles: Vec<CustomRoleRef>,
    pub two_factor: bool,
}

fn role_names<S: serde::Serializer>(r: &[Role], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(r.iter().map(Role::as_str))
}

fn parse_permissions(names: &[String]) -> Vec<Permission> {
    names.iter().filter_map(|n| Permission::parse(n)).collect()
}

const STAFF_SELECT: &str = "\
    SELECT s.id, s.email, s.display_name, s.active, \
           COALESCE((SELECT array_agg(r.role ORDER BY r.role) FROM staff_roles r \
                     WHERE r.tenant_id = s.tenant_id AND r.staff_id = s.id), '{}') AS roles, \
           COALESCE((SELECT array_agg(c.id ORDER BY c.name) FROM staff_custom_roles g \
                     JOIN custom_roles c ON c.tenant_id = g.tenant_id AND c.id = g.role_id \
                     WHERE g.tenant_id = s.tenant_id AND g.staff_id = s.id), '{}') AS custom_ids, \
           COALESCE((SELECT array_agg(c.name ORDER BY c.name) FROM staff_custom_roles g \
                     JOIN custom_roles c ON c.tenant_id = g.tenant_id AND c.id = g.role_id \
                     WHERE g.tenant_id = s.tenant_id AND g.staff_id = s.id), '{}') AS custom_names, \
           EXISTS (SELECT 1 FROM two_factor t WHERE t.tenant_id = s.tenant_id \
                   AND t.staff_id = s.id AND t.enabled_at IS NOT NULL) AS two_factor \
    FROM staff s WHERE s.tenant_id = $1";

fn staff_from_row(row: &sqlx::postgres::PgRow) -> Result<StaffMember, AccessError> {
    let roles: Vec<String> = row.try_get("roles")?;
    let ids: Vec<Uuid> = row.try_get("custom_ids")?;
    let names: Vec<String> = row.try_get("custom_names")?;
    Ok(StaffMember {
        id: StaffId(row.try_get("id")?),
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        active: row.try_get("active")?,
        roles: roles.iter().filter_map(|r| Role::parse(r)).collect(),
        custom_roles: ids
            .into_iter()
            .zip(names)
            .map(|(id, name)| CustomRoleRef { id, name })
            .collect(),
        two_factor: row.try_get("two_factor")?,
    })
}

/// Every staff member of the ISP, active first, then by name.
pub async fn list_staff(tx: &mut TenantTx) -> Result<Vec<StaffMember>, AccessError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "{STAFF_SELECT} ORDER BY s.active DESC, s.display_name, s.id"
    ))
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(staff_from_row).collect()
}

/// One staff member, locked for the change that follows.
async fn staff_for_update(tx: &mut TenantTx, id: StaffId) -> Result<StaffMember, AccessError> {
    let tenant = tx.tenant();
    // Lock first (the listing query's aggregates cannot take FOR UPDATE).
    sqlx::query("SELECT 1 FROM staff WHERE tenant_id = $1 AND id = $2 FOR UPDATE")
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(AccessError::NotFound)?;
    let row = sqlx::query(&format!("{STAFF_SELECT} AND s.id = $2"))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_one(tx.conn())
        .await?;
    staff_from_row(&row)
}

async fn staff_member(tx: &mut TenantTx, id: StaffId) -> Result<StaffMember, AccessError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!("{STAFF_SELECT} AND s.id = $2"))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(AccessError::NotFound)?;
    staff_from_row(&row)
}

/// Everything `staff` may do, from the grants as this transaction sees them (not the cache:
/// the escalation rule must see the same rows the change writes).
pub async fn effective_permissions(
    tx: &mut TenantTx,
    staff: StaffId,
) -> Result<BTreeSet<String>, AccessError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT COALESCE((SELECT array_agg(role) FROM staff_roles \
                          WHERE tenant_id = $1 AND staff_id = $2), '{}') AS roles, \
                COALESCE((SELECT array_agg(DISTINCT p) FROM staff_custom_roles g \
                          JOIN custom_roles c ON c.tenant_id = g.tenant_id AND c.id = g.role_id \
                          CROSS JOIN LATERAL unnest(c.permissions) AS p \
                          WHERE g.tenant_id = $1 AND g.staff_id = $2), '{}') AS custom",
    )
    .bind(tenant.as_uuid())
    .bind(staff.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    let roles: Vec<String> = row.try_get("roles")?;
    let custom: Vec<String> = row.try_get("custom")?;
    let mut granted: BTreeSet<String> = roles
        .iter()
        .filter_map(|r| Role::parse(r))
        .flat_map(|r| r.permissions().iter().map(Permission::name))
        .collect();
    granted.extend(parse_permissions(&custom).iter().map(Permission::name));
    Ok(granted)
}

fn within(held: &BTreeSet<String>, wanted: impl IntoIterator<Item = Permission>) -> bool {
    wanted.into_iter().all(|p| held.contains(&p.name()))
}

fn within_set(held: &BTreeSet<String>, wanted: &BTreeSet<String>) -> bool {
    wanted.is_subset(held)
}

/// The ISP's custom roles, by name, with how many staff hold each.
pub async fn list_custom_roles(tx: &mut TenantTx) -> Result<Vec<CustomRole>, AccessError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT c.id, c.name, c.description, c.permissions, c.updated_at, \
                (SELECT count(*) FROM staff_custom_roles g \
                 WHERE g.tenant_id = c.tenant_id AND g.role_id = c.id) AS members \
         FROM custom_roles c WHERE c.tenant_id = $1 ORDER BY lower(c.name), c.id",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(role_from_row).collect()
}

fn role_from_row(row: &sqlx::postgres::PgRow) -> Result<CustomRole, AccessError> {
    let names: Vec<String> = row.try_get("permissions")?;
    Ok(CustomRole {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        permissions: parse_permissions(&names),
        members: row.try_get("members")?,
        updated_at: row.try_get("updated_at")?,
    })
}

async fn custom_role(tx: &mut TenantTx, id: Uuid, lock: bool) -> Result<CustomRole, AccessError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT c.id, c.name, c.description, c.permissions, c.updated_at, \
                (SELECT count(*) FROM staff_custom_roles g \
                 WHERE g.tenant_id = c.tenant_id AND g.role_id = c.id) AS members \
         FROM custom_roles c WHERE c.tenant_id = $1 AND c.id = $2{}",
        if lock { " FOR UPDATE OF c" } else { "" }
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AccessError::NotFound)?;
    role_from_row(&row)
}

fn name_taken(e: sqlx::Error) -> AccessError {
    match &e {
        sqlx::Error::Database(d) if d.constraint() == Some("custom_roles_name_key") => {
            AccessError::AlreadyTaken("role name")
        }
        _ => e.into(),
    }
}

pub async fn create_custom_role(
    tx: &mut TenantTx,
    actor: StaffId,
    input: &RoleInput,
) -> Result<CustomRole, AccessError> {
    let held = effective_permissions(tx, actor).await?;
    if !within(&held, input.permissions.iter().copied()) {
        return Err(AccessError::BeyondOwnPermissions);
    }
    let tenant = tx.tenant();
    let id = Uuid::now_v7();
    let names: Vec<String> = input.permissions.iter().map(Permission::name).collect();
    sqlx::query(
        "INSERT INTO custom_roles (tenant_id, id, name, description, permissions) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&input.name)
    .bind(&input.description)
    .bind(&names)
    .execute(tx.conn())
    .await
    .map_err(name_taken)?;
    custom_role(tx, id, false).await
}

/// Returns the role before and after.
pub async fn update_custom_role(
    tx: &mut TenantTx,
    actor: StaffId,
    id: Uuid,
    input: &RoleInput,
) -> Result<(CustomRole, CustomRole), AccessError> {
    let before = custom_role(tx, id, true).await?;
    let held = effective_permissions(tx, actor).await?;
    if !within(&held, before.permissions.iter().copied())
        || !within(&held, input.permissions.iter().copied())
    {
        return Err(AccessError::BeyondOwnPermissions);
    }
    let tenant = tx.tenant();
    let names: Vec<String> = input.permissions.iter().map(Permission::name).collect();
    sqlx::query(
        "UPDATE custom_roles SET name = $3, description = $4, permissions = $5, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&input.name)
    .bind(&input.description)
    .bind(&names)
    .execute(tx.conn())
    .await
    .map_err(name_taken)?;
    let after = custom_role(tx, id, false).await?;
    Ok((before, after))
}

/// Deletes a role nobody holds; returns it as it was.
pub async fn delete_custom_role(
    tx: &mut TenantTx,
    actor: StaffId,
    id: Uuid,
) -> Result<CustomRole, AccessError> {
    let before = custom_role(tx, id, true).await?;
    let held = effective_permissions(tx, actor).await?;
    if !within(&held, before.permissions.iter().copied()) {
        return Err(AccessError::BeyondOwnPermissions);
    }
    let tenant = tx.tenant();
    sqlx::query("DELETE FROM custom_roles WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_uuid())
        .bind(id)
        .execute(tx.conn())
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.constraint() == Some("staff_custom_roles_role_fkey") => {
                AccessError::RoleInUse
            }
            _ => e.into(),
        })?;
    Ok(before)
}

/// Checks that `actor` may change `target`'s access at all: not their own, and not someone
/// who holds anything the actor does not.
async fn may_manage(
    tx: &mut TenantTx,
    actor: StaffId,
    target: StaffId,
) -> Result<BTreeSet<String>, AccessError> {
    if actor == target {
        return Err(AccessError::OwnAccess);
    }
    let held = effective_permissions(tx, actor).await?;
    let theirs = effective_permissions(tx, target).await?;
    if !within_set(&held, &theirs) {
        return Err(AccessError::BeyondOwnPermissions);
    }
    Ok(held)
}

/// Gives `target` exactly one role, replacing every role they had. Returns them before and
/// after.
pub async fn assign_role(
    tx: &mut TenantTx,
    actor: StaffId,
    target: StaffId,
    role: RoleAssignment,
) -> Result<(StaffMember, StaffMember), AccessError> {
    let before = staff_for_update(tx, target).await?;
    let held = may_manage(tx, actor, target).await?;
    let granted: Vec<Permission> = match role {
        RoleAssignment::BuiltIn(r) => r.permissions().to_vec(),
        RoleAssignment::Custom(id) => custom_role(tx, id, true).await?.permissions,
    };
    if !within(&held, granted) {
        return Err(AccessError::BeyondOwnPermissions);
    }
    let tenant = tx.tenant();
    let (built_in, custom) = match role {
        RoleAssignment::BuiltIn(r) => (vec![r.as_str()], vec![]),
        RoleAssignment::Custom(id) => (vec![], vec![id]),
    };
    sqlx::query(
        "DELETE FROM staff_roles WHERE tenant_id = $1 AND staff_id = $2 AND NOT (role = ANY($3))",
    )
    .bind(tenant.as_uuid())
    .bind(target.as_uuid())
    .bind(&built_in)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "DELETE FROM staff_custom_roles WHERE tenant_id = $1 AND staff_id = $2 \
           AND NOT (role_id = ANY($3))",
    )
    .bind(tenant.as_uuid())
    .bind(target.as_uuid())
    .bind(&custom)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO staff_roles (tenant_id, staff_id, role) \
         SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(target.as_uuid())
    .bind(&built_in)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO staff_custom_roles (tenant_id, staff_id, role_id) \
         SELECT $1, $2, unnest($3::uuid[]) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(target.as_uuid())
    .bind(&custom)
    .execute(tx.conn())
    .await?;
    let after = staff_member(tx, target).await?;
    Ok((before, after))
}

/// Deactivates (every session ends at once, sign-in refused) or reactivates a staff member.
/// Returns them before and after, and how many sessions ended.
pub async fn set_active(
    tx: &mut TenantTx,
    actor: StaffId,
    target: StaffId,
    active: bool,
) -> Result<(StaffMember, StaffMember, u64), AccessError> {
    let before = staff_for_update(tx, target).await?;
    may_manage(tx, actor, target).await?;
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE staff SET active = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(target.as_uuid())
    .bind(active)
    .execute(tx.conn())
    .await?;
    let ended = if active {
        0
    } else {
        sqlx::query(
            "UPDATE sessions SET revoked_at = now() \
             WHERE tenant_id = $1 AND staff_id = $2 AND revoked_at IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(target.as_uuid())
        .execute(tx.conn())
        .await?
        .rows_affected()
    };
    let after = staff_member(tx, target).await?;
    Ok((before, after, ended))
}

/// The ISP's staff sign-in rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StaffSecurity {
    /// Every staff member must use two-factor sign-in.
    pub require_two_factor: bool,
}

pub async fn staff_security(tx: &mut TenantTx) -> Result<StaffSecurity, AccessError> {
    let tenant = tx.tenant();
    let require: Option<bool> = sqlx::query_scalar(
        "SELECT require_two_factor FROM staff_security_settings WHERE tenant_id = $1",
    )
    .bind(tenant.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    Ok(StaffSecurity {
        require_two_factor: require.unwrap_or(false),
    })
}

/// Saves the rules; returns them before and after. Turning the requirement on needs the
/// actor to have two-factor sign-in themselves, so an owner never locks themselves out.
pub async fn put_staff_security(
    tx: &mut TenantTx,
    actor: StaffId,
    next: StaffSecurity,
) -> Result<(StaffSecurity, StaffSecurity), AccessError> {
    let before = staff_security(tx).await?;
    if next.require_two_factor && !staff_member(tx, actor).await?.two_factor {
        return Err(AccessError::TwoFactorRequired);
    }
    let tenant = tx.tenant();
    sqlx::query(
        "INSERT INTO staff_security_settings (tenant_id, require_two_factor) VALUES ($1, $2) \
         ON CONFLICT (tenant_id) DO UPDATE SET require_two_factor = EXCLUDED.require_two_factor, \
           updated_at = now()",
    )
    .bind(tenant.as_uuid())
    .bind(next.require_two_factor)
    .execute(tx.conn())
    .await?;
    Ok((before, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_input_is_normalised_and_checked() {
        let input = RoleInput::new(
            "  Night   shift ",
            " desk ",
            vec![
                Permission::TicketsReply,
                Permission::TicketsRead,
                Permission::TicketsRead,
            ],
        )
        .expect("valid");
        assert_eq!(input.name, "Night shift");
        assert_eq!(input.description, "desk");
        assert_eq!(
            input.permissions,
            vec![Permission::TicketsRead, Permission::TicketsReply]
        );
        assert!(RoleInput::new(" ", "", vec![Permission::TicketsRead]).is_err());
        assert!(RoleInput::new("x", "", vec![]).is_err());
        assert!(RoleInput::new(&"x".repeat(81), "", vec![Permission::TicketsRead]).is_err());
    }

    #[test]
    fn nobody_grants_beyond_what_they_hold() {
        let held: BTreeSet<String> = Role::Admin
            .permissions()
            .iter()
            .map(Permission::name)
            .collect();
        assert!(within(
            &held,
            Role::SupportAgent.permissions().iter().copied()
        ));
        assert!(!within(&held, [Permission::AuditRead]));
        assert!(!within(&held, Role::Owner.permissions().iter().copied()));
    }
}
