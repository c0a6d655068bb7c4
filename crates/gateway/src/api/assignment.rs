//! Auto-assignment in the console: agent groups (`/console/assignment/groups…`,
//! `tickets.manage`), the signed-in agent's shift (`/console/me/shift`, `tickets.reply`) and who
//! is on shift (`/console/assignment/on-shift`, `tickets.read`).

use chrono::{DateTime, Utc};
use kabinet_access::Permission;
use kabinet_ticketing::assignment::{
    self, AgentGroup, AssignmentMode, GroupMember, GroupSpec, OnShiftAgent, Shift, ShiftChange,
};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::text::Text;
use crate::AppState;
use crate::auth::StaffAuth;
use crate::problem::ApiError;

/// Agent groups, shifts and who is on shift.
pub struct AssignmentApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = AssignmentApi;

pub fn apis() -> Apis {
    AssignmentApi
}

#[derive(Debug, Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum AssignmentModeBody {
    /// Each next ticket to the next member on shift, in turn.
    RoundRobin,
    /// To the member on shift with the fewest active tickets.
    LeastLoaded,
}

impl From<AssignmentModeBody> for AssignmentMode {
    fn from(m: AssignmentModeBody) -> Self {
        match m {
            AssignmentModeBody::RoundRobin => Self::RoundRobin,
            AssignmentModeBody::LeastLoaded => Self::LeastLoaded,
        }
    }
}

impl From<AssignmentMode> for AssignmentModeBody {
    fn from(m: AssignmentMode) -> Self {
        match m {
            AssignmentMode::RoundRobin => Self::RoundRobin,
            AssignmentMode::LeastLoaded => Self::LeastLoaded,
        }
    }
}

#[derive(Debug, Object)]
pub struct AgentGroupInput {
    #[oai(validator(max_length = 80))]
    pub name: Text,
    pub mode: AssignmentModeBody,
    /// Ticket category codes (`connectivity`, `payments` …) the group handles. Empty: the
    /// default group, for every category no other group lists.
    #[oai(default, validator(max_items = 20))]
    pub categories: Vec<Text>,
    /// When two groups list the same category, the lower position gets its tickets.
    #[oai(default)]
    pub position: i32,
    /// Off: the group still claims its categories, but nobody is assigned automatically.
    #[oai(default = "default_true")]
    pub auto_assign: bool,
    /// Staff ids of the members.
    #[oai(default, validator(max_items = 200))]
    pub members: Vec<Uuid>,
}

fn default_true() -> bool {
    true
}

impl AgentGroupInput {
    fn spec(self) -> GroupSpec {
        GroupSpec {
            name: self.name.0,
            mode: self.mode.into(),
            categories: self.categories.into_iter().map(|t| t.0).collect(),
            position: self.position,
            auto_assign: self.auto_assign,
            members: self.members,
        }
    }
}

#[derive(Debug, Object)]
pub struct AgentGroupMember {
    pub id: Uuid,
    pub display_name: String,
    pub on_shift: bool,
    /// Active tickets (new, open, waiting on the customer) assigned to them.
    pub load: i64,
}

impl From<GroupMember> for AgentGroupMember {
    fn from(m: GroupMember) -> Self {
        Self {
            id: m.staff.id.as_uuid(),
            display_name: m.staff.display_name,
            on_shift: m.on_shift,
            load: m.load,
        }
    }
}

#[derive(Debug, Object)]
pub struct AgentGroupItem {
    pub id: Uuid,
    pub name: String,
    pub mode: AssignmentModeBody,
    pub categories: Vec<String>,
    pub position: i32,
    pub auto_assign: bool,
    pub members: Vec<AgentGroupMember>,
    /// Unassigned active tickets routed to the group now.
    pub waiting: i64,
    /// Tickets the group has assigned automatically so far.
    pub assigned_total: i64,
    pub updated_at: DateTime<Utc>,
}

impl From<AgentGroup> for AgentGroupItem {
    fn from(g: AgentGroup) -> Self {
        Self {
            id: g.id,
            name: g.name,
            mode: g.mode.into(),
            categories: g.categories.iter().map(|c| c.as_str().to_owned()).collect(),
            position: g.position,
            auto_assign: g.auto_assign,
            members: g.members.into_iter().map(Into::into).collect(),
            waiting: g.waiting,
            assigned_total: g.assigned_total,
            updated_at: g.updated_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct AgentGroupList {
    /// In routing order: groups listing categories (by position), then default groups.
    pub items: Vec<AgentGroupItem>,
}

#[derive(Debug, Object)]
pub struct MyShift {
    pub on_shift: bool,
    #[oai(skip_serializing_if_is_none)]
    pub started_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub ended_at: Option<DateTime<Utc>>,
}

impl From<Shift> for MyShift {
    fn from(s: Shift) -> Self {
        Self {
            on_shift: s.on_shift,
            started_at: s.started_at,
            ended_at: s.ended_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct SetMyShift {
    pub on_shift: bool,
}

#[derive(Debug, Object)]
pub struct ShiftChanged {
    pub shift: MyShift,
    /// Tickets taken back from you (ending a shift) for others on shift.
    pub released: i64,
    /// Tickets handed out right after the change (to you or to others).
    pub assigned: i64,
}

#[derive(Debug, Object)]
pub struct OnShiftAgentItem {
    pub id: Uuid,
    pub display_name: String,
    pub started_at: DateTime<Utc>,
    pub load: i64,
    pub me: bool,
}

#[derive(Debug, Object)]
pub struct OnShiftList {
    pub items: Vec<OnShiftAgentItem>,
}

#[derive(ApiResponse)]
enum GroupCreated {
    #[oai(status = 201)]
    Created(Json<AgentGroupItem>),
}

#[derive(ApiResponse)]
enum GroupDeleted {
    #[oai(status = 204)]
    Deleted,
}

fn group_details(g: &AgentGroup) -> serde_json::Value {
    json!({
        "name": g.name,
        "mode": g.mode.as_str(),
        "categories": g.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "position": g.position,
        "auto_assign": g.auto_assign,
        "members": g.members.iter().map(|m| m.staff.id.as_uuid()).collect::<Vec<_>>(),
    })
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl AssignmentApi {
    /// The ISP's agent groups in routing order, with members, their shift and load, and the
    /// tickets waiting for each group.
    #[oai(
        path = "/assignment/groups",
        method = "get",
        operation_id = "listAgentGroups"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<AgentGroupList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let groups = assignment::list_groups(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(AgentGroupList {
            items: groups.into_iter().map(Into::into).collect(),
        }))
    }

    /// Creates a group and hands out the tickets already waiting for it. Audited.
    #[oai(
        path = "/assignment/groups",
        method = "post",
        operation_id = "createAgentGroup"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<AgentGroupInput>,
    ) -> Result<GroupCreated, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        let spec = body.0.spec();
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let group = assignment::create_group(&mut tx, &spec, Utc::now()).await?;
        staff
            .audit(
                &mut tx,
                "agent_group.create",
                format!("agent_group:{}", group.id),
                group_details(&group),
            )
            .await?;
        tx.commit().await?;
        Ok(GroupCreated::Created(Json(group.into())))
    }

    /// Replaces a group's name, mode, categories, position, switch and members. Audited with
    /// the group before and after.
    #[oai(
        path = "/assignment/groups/:id",
        method = "put",
        operation_id = "updateAgentGroup"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<AgentGroupInput>,
    ) -> Result<Json<AgentGroupItem>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        let spec = body.0.spec();
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (before, after) = assignment::update_group(&mut tx, id.0, &spec, Utc::now()).await?;
        staff
            .audit(
                &mut tx,
                "agent_group.update",
                format!("agent_group:{}", id.0),
                json!({ "before": group_details(&before), "after": group_details(&after) }),
            )
            .await?;
        tx.commit().await?;
        Ok(Json(after.into()))
    }

    /// Deletes a group; its tickets keep their assignees. Audited.
    #[oai(
        path = "/assignment/groups/:id",
        method = "delete",
        operation_id = "deleteAgentGroup"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<GroupDeleted, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let group = assignment::delete_group(&mut tx, id.0).await?;
        staff
            .audit(
                &mut tx,
                "agent_group.delete",
                format!("agent_group:{}", id.0),
                group_details(&group),
            )
            .await?;
        tx.commit().await?;
        Ok(GroupDeleted::Deleted)
    }

    /// Who is on shift now (active staff who may reply), with their active tickets.
    #[oai(
        path = "/assignment/on-shift",
        method = "get",
        operation_id = "listOnShiftAgents"
    )]
    async fn on_shift(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<OnShiftList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let agents = assignment::on_shift(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(OnShiftList {
            items: agents
                .into_iter()
                .map(|a: OnShiftAgent| OnShiftAgentItem {
                    me: a.staff.id == staff.id,
                    id: a.staff.id.as_uuid(),
                    display_name: a.staff.display_name,
                    started_at: a.started_at,
                    load: a.load,
                })
                .collect(),
        }))
    }

    /// The signed-in agent's shift.
    #[oai(path = "/me/shift", method = "get", operation_id = "getMyShift")]
    async fn my_shift(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<MyShift>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsReply).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let shift = assignment::my_shift(&mut tx, staff.id).await?;
        tx.commit().await?;
        Ok(Json(shift.into()))
    }

    /// Starts or ends the signed-in agent's shift. Starting hands out the tickets waiting for
    /// the agent's groups; ending returns the agent's active tickets that are not waiting on
    /// the customer to the pool. Audited when it changes something.
    #[oai(path = "/me/shift", method = "put", operation_id = "setMyShift")]
    async fn set_my_shift(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<SetMyShift>,
    ) -> Result<Json<ShiftChanged>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsReply).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let change: ShiftChange =
            assignment::set_shift(&mut tx, staff.id, body.0.on_shift, Utc::now()).await?;
        if change.changed {
            staff
                .audit(
                    &mut tx,
                    if body.0.on_shift {
                        "shift.start"
                    } else {
                        "shift.end"
                    },
                    format!("staff:{}", staff.id.as_uuid()),
                    json!({ "released": change.released, "assigned": change.assigned }),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(Json(ShiftChanged {
            shift: change.shift.into(),
            released: change.released,
            assigned: change.assigned,
        }))
    }
}
