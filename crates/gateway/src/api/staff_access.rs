//! Staff and roles in the console (`/console/permissions`, `/console/roles…`,
//! `/console/staff…`, `/console/staff-security`): the permission catalogue, custom roles, role
//! assignment, deactivation and the two-factor rule. Every route needs `staff.manage`; every
//! change is audited with the record before and after.

use kabinet_access::audit::change;
use kabinet_access::roles::{
    self, CustomRole, RoleAssignment, RoleInput, StaffMember, StaffSecurity,
};
use kabinet_access::{Permission, Role};
use kabinet_core::StaffId;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Union};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::text::Text;
use crate::AppState;
use crate::auth::StaffAuth;
use crate::problem::ApiError;

pub struct StaffAccessApi;

/// A fine-grained staff permission. Roles are assembled from these; nothing else is accepted.
#[derive(Debug, Enum, Clone, Copy, PartialEq, Eq)]
pub enum PermissionName {
    #[oai(rename = "tickets.read")]
    TicketsRead,
    #[oai(rename = "tickets.reply")]
    TicketsReply,
    #[oai(rename = "tickets.manage")]
    TicketsManage,
    #[oai(rename = "subscribers.read")]
    SubscribersRead,
    #[oai(rename = "subscribers.write")]
    SubscribersWrite,
    #[oai(rename = "billing.read")]
    BillingRead,
    #[oai(rename = "billing.write")]
    BillingWrite,
    #[oai(rename = "catalogue.manage")]
    CatalogueManage,
    #[oai(rename = "staff.manage")]
    StaffManage,
    #[oai(rename = "settings.manage")]
    SettingsManage,
    #[oai(rename = "audit.read")]
    AuditRead,
    #[oai(rename = "orders.read")]
    OrdersRead,
    #[oai(rename = "orders.manage")]
    OrdersManage,
    #[oai(rename = "news.manage")]
    NewsManage,
    #[oai(rename = "kb.manage")]
    KbManage,
    #[oai(rename = "network.read")]
    NetworkRead,
    #[oai(rename = "network.manage")]
    NetworkManage,
    #[oai(rename = "canned.manage")]
    CannedManage,
    #[oai(rename = "incidents.manage")]
    IncidentsManage,
    #[oai(rename = "analytics.read")]
    AnalyticsRead,
    #[oai(rename = "subscription.manage")]
    SubscriptionManage,
}

impl From<Permission> for PermissionName {
    fn from(p: Permission) -> Self {
        match p {
            Permission::TicketsRead => Self::TicketsRead,
            Permission::TicketsReply => Self::TicketsReply,
            Permission::TicketsManage => Self::TicketsManage,
            Permission::SubscribersRead => Self::SubscribersRead,
            Permission::SubscribersWrite => Self::SubscribersWrite,
            Permission::BillingRead => Self::BillingRead,
            Permission::BillingWrite => Self::BillingWrite,
            Permission::CatalogueManage => Self::CatalogueManage,
            Permission::StaffManage => Self::StaffManage,
            Permission::SettingsManage => Self::SettingsManage,
            Permission::AuditRead => Self::AuditRead,
            Permission::OrdersRead => Self::OrdersRead,
            Permission::OrdersManage => Self::OrdersManage,
            Permission::NewsManage => Self::NewsManage,
            Permission::KbManage => Self::KbManage,
            Permission::NetworkRead => Self::NetworkRead,
            Permission::NetworkManage => Self::NetworkManage,
            Permission::CannedManage => Self::CannedManage,
            Permission::IncidentsManage => Self::IncidentsManage,
            Permission::AnalyticsRead => Self::AnalyticsRead,
            Permission::SubscriptionManage => Self::SubscriptionManage,
        }
    }
}

impl From<PermissionName> for Permission {
    fn from(p: PermissionName) -> Self {
        match p {
            PermissionName::TicketsRead => Self::TicketsRead,
            PermissionName::TicketsReply => Self::TicketsReply,
            PermissionName::TicketsManage => Self::TicketsManage,
            PermissionName::SubscribersRead => Self::SubscribersRead,
            PermissionName::SubscribersWrite => Self::SubscribersWrite,
            PermissionName::BillingRead => Self::BillingRead,
            PermissionName::BillingWrite => Self::BillingWrite,
            PermissionName::CatalogueManage => Self::CatalogueManage,
            PermissionName::StaffManage => Self::StaffManage,
            PermissionName::SettingsManage => Self::SettingsManage,
            PermissionName::AuditRead => Self::AuditRead,
            PermissionName::OrdersRead => Self::OrdersRead,
            PermissionName::OrdersManage => Self::OrdersManage,
            PermissionName::NewsManage => Self::NewsManage,
            PermissionName::KbManage => Self::KbManage,
            PermissionName::NetworkRead => Self::NetworkRead,
            PermissionName::NetworkManage => Self::NetworkManage,
            PermissionName::CannedManage => Self::CannedManage,
            PermissionName::IncidentsManage => Self::IncidentsManage,
            PermissionName::AnalyticsRead => Self::AnalyticsRead,
            PermissionName::SubscriptionManage => Self::SubscriptionManage,
        }
    }
}

/// A built-in role every ISP has.
#[derive(Debug, Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum BuiltInRole {
    Owner,
    Admin,
    SupportAgent,
    BillingClerk,
    Technician,
    ReadOnly,
}

impl From<Role> for BuiltInRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => Self::Owner,
            Role::Admin => Self::Admin,
            Role::SupportAgent => Self::SupportAgent,
            Role::BillingClerk => Self::BillingClerk,
            Role::Technician => Self::Technician,
            Role::ReadOnly => Self::ReadOnly,
        }
    }
}

impl From<BuiltInRole> for Role {
    fn from(r: BuiltInRole) -> Self {
        match r {
            BuiltInRole::Owner => Self::Owner,
            BuiltInRole::Admin => Self::Admin,
            BuiltInRole::SupportAgent => Self::SupportAgent,
            BuiltInRole::BillingClerk => Self::BillingClerk,
            BuiltInRole::Technician => Self::Technician,
            BuiltInRole::ReadOnly => Self::ReadOnly,
        }
    }
}

/// One entry of the permission catalogue.
#[derive(Debug, Object)]
pub struct PermissionInfo {
    pub permission: PermissionName,
    /// What it is about (`tickets`, `billing`…): the editor groups by it.
    pub area: String,
    pub description_ru: String,
    pub description_en: String,
}

#[derive(Debug, Object)]
pub struct PermissionCatalogue {
    pub items: Vec<PermissionInfo>,
}

#[derive(Debug, Object)]
pub struct BuiltInRoleInfo {
    pub role: BuiltInRole,
    pub permissions: Vec<PermissionName>,
}

#[derive(Debug, Object)]
pub struct CustomRoleView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub permissions: Vec<PermissionName>,
    /// Staff members holding the role (it can be deleted only at 0).
    pub members: i64,
}

impl From<CustomRole> for CustomRoleView {
    fn from(r: CustomRole) -> Self {
        Self {
            id: r.id,
            name: r.name,
            description: r.description,
            permissions: r.permissions.into_iter().map(Into::into).collect(),
            members: r.members,
        }
    }
}

#[derive(Debug, Object)]
pub struct RoleList {
    pub built_in: Vec<BuiltInRoleInfo>,
    pub custom: Vec<CustomRoleView>,
}

#[derive(Debug, Object)]
pub struct CustomRoleInput {
    /// 1–80 characters, unique in the ISP (any case).
    #[oai(validator(min_length = 1, max_length = 80))]
    pub name: Text,
    /// Up to 500 characters.
    #[oai(default, nullable, validator(max_length = 500))]
    pub description: Option<Text>,
    /// At least one; only permissions you hold yourself.
    #[oai(validator(min_items = 1, max_items = 100))]
    pub permissions: Vec<PermissionName>,
}

impl CustomRoleInput {
    fn parse(&self) -> Result<RoleInput, ApiError> {
        Ok(RoleInput::new(
            &self.name,
            self.description.as_deref().unwrap_or_default(),
            self.permissions.iter().map(|p| (*p).into()).collect(),
        )?)
    }
}

#[derive(ApiResponse)]
enum RoleCreated {
    #[oai(status = 201)]
    Created(Json<CustomRoleView>),
}

#[derive(ApiResponse)]
enum RoleDeleted {
    #[oai(status = 204)]
    Deleted,
}

#[derive(Debug, Object)]
pub struct CustomRoleName {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Object)]
pub struct StaffMemberView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    /// Inactive staff cannot sign in.
    pub active: bool,
    pub roles: Vec<BuiltInRole>,
    pub custom_roles: Vec<CustomRoleName>,
    /// Signs in with a second factor.
    pub two_factor: bool,
    /// The signed-in staff member (whose own role and activity others decide).
    pub me: bool,
}

fn staff_view(m: StaffMember, me: StaffId) -> StaffMemberView {
    StaffMemberView {
        me: m.id == me,
        id: m.id.as_uuid(),
        email: m.email,
        display_name: m.display_name,
        active: m.active,
        roles: m.roles.into_iter().map(Into::into).collect(),
        custom_roles: m
            .custom_roles
            .into_iter()
            .map(|r| CustomRoleName {
                id: r.id,
                name: r.name,
            })
            .collect(),
        two_factor: m.two_factor,
    }
}

#[derive(Debug, Object)]
pub struct StaffList {
    pub items: Vec<StaffMemberView>,
}

#[derive(Debug, Object)]
pub struct BuiltInRoleRef {
    pub role: BuiltInRole,
}

#[derive(Debug, Object)]
pub struct CustomRoleRef {
    pub id: Uuid,
}

/// The one role a staff member gets (it replaces whatever they had).
#[derive(Debug, Union)]
#[oai(discriminator_name = "kind")]
pub enum RoleRef {
    #[oai(mapping = "built_in")]
    BuiltIn(BuiltInRoleRef),
    #[oai(mapping = "custom")]
    Custom(CustomRoleRef),
}

#[derive(Debug, Object)]
pub struct ActiveChange {
    /// `false` deactivates: every session ends at once and sign-in is refused.
    pub active: bool,
}

#[derive(Debug, Object)]
pub struct StaffSecurityView {
    /// Every staff member must use two-factor sign-in; those without it can only set it up.
    /// Turning it on needs two-factor sign-in on your own account.
    pub require_two_factor: bool,
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl StaffAccessApi {
    /// The permission catalogue roles are assembled from, with descriptions.
    #[oai(
        path = "/permissions",
        method = "get",
        operation_id = "listPermissions"
    )]
    async fn permissions(&self, auth: StaffAuth) -> Result<Json<PermissionCatalogue>, ApiError> {
        auth.0.require(Permission::StaffManage).await?;
        Ok(Json(PermissionCatalogue {
            items: Permission::ALL
                .into_iter()
                .map(|p| {
                    let (ru, en) = p.description();
                    PermissionInfo {
                        permission: p.into(),
                        area: p.object_action().0.to_owned(),
                        description_ru: ru.to_owned(),
                        description_en: en.to_owned(),
                    }
                })
                .collect(),
        }))
    }

    /// The built-in roles with their permissions, and the ISP's custom roles.
    #[oai(path = "/roles", method = "get", operation_id = "listRoles")]
    async fn roles(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<RoleList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let custom = roles::list_custom_roles(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(RoleList {
            built_in: Role::ALL
                .into_iter()
                .map(|r| BuiltInRoleInfo {
                    role: r.into(),
                    permissions: r.permissions().iter().map(|p| (*p).into()).collect(),
                })
                .collect(),
            custom: custom.into_iter().map(Into::into).collect(),
        }))
    }

    /// Creates a custom role from permissions you hold yourself (`beyond_own_permissions`
    /// otherwise; a name in use is `already_taken`). Audited.
    #[oai(path = "/roles", method = "post", operation_id = "createRole")]
    async fn create_role(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<CustomRoleInput>,
    ) -> Result<RoleCreated, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let input = body.0.parse()?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let role = roles::create_custom_role(&mut tx, staff.id, &input).await?;
        staff
            .audit(
                &mut tx,
                "role.create",
                format!("role:{}", role.id),
                change(&serde_json::Value::Null, &role),
            )
            .await?;
        tx.commit().await?;
        Ok(RoleCreated::Created(Json(role.into())))
    }

    /// Replaces a custom role's name, description and permissions; holders get the new
    /// permissions at once, on every node. Audited with before and after.
    #[oai(path = "/roles/:id", method = "put", operation_id = "updateRole")]
    async fn update_role(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<CustomRoleInput>,
    ) -> Result<Json<CustomRoleView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let input = body.0.parse()?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (before, after) = roles::update_custom_role(&mut tx, staff.id, id.0, &input).await?;
        staff
            .audit(
                &mut tx,
                "role.update",
                format!("role:{}", after.id),
                change(&before, &after),
            )
            .await?;
        tx.commit().await?;
        Ok(Json(after.into()))
    }

    /// Deletes a custom role nobody holds (`role_in_use` otherwise). Audited.
    #[oai(path = "/roles/:id", method = "delete", operation_id = "deleteRole")]
    async fn delete_role(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<RoleDeleted, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let before = roles::delete_custom_role(&mut tx, staff.id, id.0).await?;
        staff
            .audit(
                &mut tx,
                "role.delete",
                format!("role:{}", before.id),
                change(&before, &serde_json::Value::Null),
            )
            .await?;
        tx.commit().await?;
        Ok(RoleDeleted::Deleted)
    }

    /// The ISP's staff with their roles, activity and two-factor state.
    #[oai(path = "/staff", method = "get", operation_id = "listStaff")]
    async fn staff(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<StaffList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let list = roles::list_staff(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(StaffList {
            items: list.into_iter().map(|m| staff_view(m, staff.id)).collect(),
        }))
    }

    /// Gives a staff member one role, replacing theirs. Not your own (`own_access`), and only
    /// for someone whose permissions and new role are within yours (`beyond_own_permissions`).
    /// Takes effect at once on every node. Audited with before and after.
    #[oai(
        path = "/staff/:id/role",
        method = "put",
        operation_id = "setStaffRole"
    )]
    async fn set_role(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<RoleRef>,
    ) -> Result<Json<StaffMemberView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let role = match body.0 {
            RoleRef::BuiltIn(r) => RoleAssignment::BuiltIn(r.role.into()),
            RoleRef::Custom(r) => RoleAssignment::Custom(r.id),
        };
        let target = StaffId(id.0);
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (before, after) = roles::assign_role(&mut tx, staff.id, target, role).await?;
        staff
            .audit(
                &mut tx,
                "staff.role",
                format!("staff:{target}"),
                change(&before, &after),
            )
            .await?;
        tx.commit().await?;
        Ok(Json(staff_view(after, staff.id)))
    }

    /// Deactivates a staff member (their sessions end at once, sign-in is refused) or brings
    /// them back. The same limits as a role change. Audited with before and after.
    #[oai(
        path = "/staff/:id/active",
        method = "put",
        operation_id = "setStaffActive"
    )]
    async fn set_active(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<ActiveChange>,
    ) -> Result<Json<StaffMemberView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let target = StaffId(id.0);
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (before, after, ended) =
            roles::set_active(&mut tx, staff.id, target, body.0.active).await?;
        if before.active != after.active {
            let action = if after.active {
                "staff.activate"
            } else {
                "staff.deactivate"
            };
            let mut details = change(&before, &after);
            details["sessions_ended"] = json!(ended);
            staff
                .audit(&mut tx, action, format!("staff:{target}"), details)
                .await?;
        }
        tx.commit().await?;
        Ok(Json(staff_view(after, staff.id)))
    }

    /// The ISP's staff sign-in rules.
    #[oai(
        path = "/staff-security",
        method = "get",
        operation_id = "getStaffSecurity"
    )]
    async fn security(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<StaffSecurityView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let current = roles::staff_security(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(StaffSecurityView {
            require_two_factor: current.require_two_factor,
        }))
    }

    /// Sets the staff sign-in rules. Requiring two-factor sign-in needs it on your own account
    /// first (`two_factor_required`). Audited with before and after.
    #[oai(
        path = "/staff-security",
        method = "put",
        operation_id = "putStaffSecurity"
    )]
    async fn put_security(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<StaffSecurityView>,
    ) -> Result<Json<StaffSecurityView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let next = StaffSecurity {
            require_two_factor: body.0.require_two_factor,
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (before, after) = roles::put_staff_security(&mut tx, staff.id, next).await?;
        if before != after {
            staff
                .audit(
                    &mut tx,
                    "staff_security.update",
                    "staff_security".into(),
                    change(&before, &after),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(Json(StaffSecurityView {
            require_two_factor: after.require_two_factor,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_permission_names_are_the_catalogue_names() {
        for p in Permission::ALL {
            let wire: PermissionName = p.into();
            let json = poem_openapi::types::ToJSON::to_json(&wire).expect("json");
            assert_eq!(json, serde_json::Value::String(p.name()));
            assert_eq!(Permission::from(wire), p);
        }
    }
}
