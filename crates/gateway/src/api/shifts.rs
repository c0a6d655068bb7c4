//! Agents' weekly shift schedules in the console: the signed-in agent's own week
//! (`/console/me/shift-schedule`, `tickets.reply`, like `/console/me/shift`) and every agent's
//! week for whoever manages the agent groups (`/console/assignment/shift-schedules…`,
//! `tickets.manage`). Saving is audited with the week before and after; the domain is
//! `kabinet_ticketing::shifts`.

use chrono::{DateTime, NaiveTime, Utc};
use kabinet_access::Permission;
use kabinet_core::StaffId;
use kabinet_ticketing::shifts::{self, AgentWeek, ScheduleSpec, ShiftSpan};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::text::Text;
use crate::AppState;
use crate::auth::{Staff, StaffAuth};
use crate::problem::ApiError;

pub struct ShiftsApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = ShiftsApi;

pub fn apis() -> Apis {
    ShiftsApi
}

/// One span of a week, in the ISP's local time.
#[derive(Debug, Object, Clone)]
pub struct ShiftSpanBody {
    /// ISO weekday the span starts on: 1 = Monday … 7 = Sunday.
    #[oai(validator(minimum(value = "1"), maximum(value = "7")))]
    pub weekday: u8,
    /// Local time `HH:MM`.
    #[oai(validator(pattern = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"))]
    pub starts_at: Text,
    /// Local time `HH:MM`; at or before `starts_at` (or `24:00`): the next day.
    #[oai(validator(pattern = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"))]
    pub ends_at: Text,
}

#[derive(Debug, Object)]
pub struct ShiftWeekInput {
    /// Off on the ISP's holidays (the SLA calendar's). Required, like `spans`.
    pub off_on_holidays: bool,
    /// The week's spans, required (a missing or null list is refused rather than read as
    /// "no schedule"); empty: the schedule moves nobody (manual toggles only).
    #[oai(validator(max_items = 42))]
    pub spans: Vec<ShiftSpanBody>,
}

#[derive(Debug, Object)]
pub struct AgentWeekItem {
    pub staff_id: Uuid,
    pub display_name: String,
    /// On shift now (by the schedule or by hand).
    pub on_shift: bool,
    /// Has a schedule (else only manual toggles move them).
    pub scheduled: bool,
    pub off_on_holidays: bool,
    /// By weekday, then start.
    pub spans: Vec<ShiftSpanBody>,
    #[oai(skip_serializing_if_is_none)]
    pub updated_at: Option<DateTime<Utc>>,
    /// The signed-in staff member.
    pub me: bool,
}

#[derive(Debug, Object)]
pub struct AgentWeekList {
    /// Active agents (who may reply) and anyone with a schedule, by name.
    pub items: Vec<AgentWeekItem>,
    /// The ISP's time zone the spans are in.
    pub time_zone: String,
}

fn hhmm(t: NaiveTime) -> Text {
    Text(t.format("%H:%M").to_string())
}

fn parse_time(field: &str, raw: &str, end: bool) -> Result<NaiveTime, ApiError> {
    if raw == "24:00" {
        return if end {
            Ok(NaiveTime::default())
        } else {
            Err(ApiError::unprocessable(
                "invalid",
                format!("{field}: a span cannot start at 24:00; use 00:00"),
            ))
        };
    }
    NaiveTime::parse_from_str(raw, "%H:%M")
        .map_err(|_| ApiError::unprocessable("invalid", format!("{field}: expected HH:MM")))
}

impl ShiftWeekInput {
    fn spec(self) -> Result<ScheduleSpec, ApiError> {
        let spans = self
            .spans
            .into_iter()
            .map(|s| {
                Ok(ShiftSpan {
                    weekday: s.weekday,
                    starts_at: parse_time("starts_at", &s.starts_at, false)?,
                    ends_at: parse_time("ends_at", &s.ends_at, true)?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(ScheduleSpec {
            off_on_holidays: self.off_on_holidays,
            spans,
        })
    }
}

fn item(w: AgentWeek, me: StaffId) -> AgentWeekItem {
    AgentWeekItem {
        me: w.staff.id == me,
        staff_id: w.staff.id.as_uuid(),
        display_name: w.staff.display_name,
        on_shift: w.on_shift,
        scheduled: w.scheduled,
        off_on_holidays: w.off_on_holidays,
        spans: w
            .spans
            .iter()
            .map(|s| ShiftSpanBody {
                weekday: s.weekday,
                starts_at: hhmm(s.starts_at),
                ends_at: hhmm(s.ends_at),
            })
            .collect(),
        updated_at: w.updated_at,
    }
}

fn week_details(w: &AgentWeek) -> serde_json::Value {
    json!({
        "scheduled": w.scheduled,
        "off_on_holidays": w.off_on_holidays,
        "spans": w.spans.iter().map(|s| json!({
            "weekday": s.weekday,
            "starts_at": s.starts_at.format("%H:%M").to_string(),
            "ends_at": s.ends_at.format("%H:%M").to_string(),
        })).collect::<Vec<_>>(),
    })
}

/// Saves `target`'s week and audits it (before and after), in one transaction.
async fn save(
    state: &AppState,
    staff: &Staff,
    target: StaffId,
    body: ShiftWeekInput,
) -> Result<AgentWeekItem, ApiError> {
    let spec = body.spec()?;
    let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
    let (before, after) = shifts::put_week(&mut tx, target, staff.id, &spec, Utc::now()).await?;
    staff
        .audit(
            &mut tx,
            "shift_schedule.update",
            format!("staff:{}", target.as_uuid()),
            json!({ "before": week_details(&before), "after": week_details(&after) }),
        )
        .await?;
    tx.commit().await?;
    Ok(item(after, staff.id))
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl ShiftsApi {
    /// Every agent's week and who is on shift now, in the ISP's time zone.
    #[oai(
        path = "/assignment/shift-schedules",
        method = "get",
        operation_id = "listShiftSchedules"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<AgentWeekList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let weeks = shifts::list_weeks(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(AgentWeekList {
            items: weeks.into_iter().map(|w| item(w, staff.id)).collect(),
            time_zone: staff.tenant.time_zone.clone(),
        }))
    }

    /// One agent's week. Another ISP's or a deactivated staff member's id is `not_found`.
    #[oai(
        path = "/assignment/shift-schedules/:staff_id",
        method = "get",
        operation_id = "getShiftSchedule"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        staff_id: Path<Uuid>,
    ) -> Result<Json<AgentWeekItem>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let week = shifts::get_week(&mut tx, StaffId(staff_id.0)).await?;
        tx.commit().await?;
        Ok(Json(item(week, staff.id)))
    }

    /// Replaces an agent's week. It takes effect from its next start or end (the agent's
    /// current shift state stands until then). Audited with the week before and after.
    #[oai(
        path = "/assignment/shift-schedules/:staff_id",
        method = "put",
        operation_id = "putShiftSchedule"
    )]
    async fn put(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        staff_id: Path<Uuid>,
        body: Json<ShiftWeekInput>,
    ) -> Result<Json<AgentWeekItem>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        Ok(Json(
            save(state.0, &staff, StaffId(staff_id.0), body.0).await?,
        ))
    }

    /// The signed-in agent's week.
    #[oai(
        path = "/me/shift-schedule",
        method = "get",
        operation_id = "getMyShiftSchedule"
    )]
    async fn get_mine(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<AgentWeekItem>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsReply).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let week = shifts::get_week(&mut tx, staff.id).await?;
        tx.commit().await?;
        Ok(Json(item(week, staff.id)))
    }

    /// Replaces the signed-in agent's week (from its next start or end). Audited.
    #[oai(
        path = "/me/shift-schedule",
        method = "put",
        operation_id = "putMyShiftSchedule"
    )]
    async fn put_mine(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<ShiftWeekInput>,
    ) -> Result<Json<AgentWeekItem>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsReply).await?;
        Ok(Json(save(state.0, &staff, staff.id, body.0).await?))
    }
}
