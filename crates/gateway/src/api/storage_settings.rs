//! Per-ISP attachment limits and storage use in the console, and the limits the portal's upload
//! form shows.
//!
//! `GET`/`PUT /console/settings/attachments` (`settings.manage`, the change audited as
//! `settings.attachments` with before and after): the ISP's largest file and largest message,
//! within the platform's caps, with the storage its files take against its plan
//! (`kabinet_tenancy::plans`). `GET /me/attachment-limits`: the same limits for the
//! subscriber's upload form. The rules live in `kabinet_ticketing::attachment_limits`.

use kabinet_access::Permission;
use kabinet_tenancy::plans::{self, PlanLimit};
use kabinet_ticketing::attachment_limits::{self, AttachmentLimits, LimitsSetting};
use kabinet_ticketing::attachments::MAX_FILES;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::json;

use super::Tag;
use crate::AppState;
use crate::auth::{StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

pub struct StorageSettingsApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = StorageSettingsApi;

pub fn apis() -> Apis {
    StorageSettingsApi
}

/// What the files of one message may take.
#[derive(Debug, Object)]
pub struct AttachmentLimitsView {
    /// The largest file, in bytes.
    pub max_file_bytes: i64,
    /// All files of one message together, in bytes.
    pub max_message_bytes: i64,
    /// Files per message (the platform's, not adjustable).
    pub max_files: i64,
}

/// The ISP's attachment settings as the console shows them.
#[derive(Debug, Object)]
pub struct AttachmentSettings {
    pub max_file_bytes: i64,
    pub max_message_bytes: i64,
    pub max_files: i64,
    /// The platform's caps: the most the ISP may allow (and what applies until it sets limits).
    pub platform_max_file_bytes: i64,
    pub platform_max_message_bytes: i64,
    /// Whether the ISP set its own limits (false: the platform's caps apply).
    pub customised: bool,
    /// Storage in use (attachments and logo), as the plan counts it.
    pub storage_used_bytes: i64,
    /// The plan's storage limit; absent when unlimited.
    #[oai(skip_serializing_if_is_none)]
    pub storage_max_bytes: Option<i64>,
}

/// New limits.
#[derive(Debug, Object)]
pub struct AttachmentSettingsInput {
    /// At most the platform's 10 MiB, and no more than `max_message_bytes`.
    #[oai(validator(minimum(value = "1")))]
    pub max_file_bytes: i64,
    /// At most the platform's 25 MiB.
    #[oai(validator(minimum(value = "1")))]
    pub max_message_bytes: i64,
}

fn limits_view(l: AttachmentLimits) -> AttachmentLimitsView {
    AttachmentLimitsView {
        max_file_bytes: l.max_file_bytes,
        max_message_bytes: l.max_message_bytes,
        max_files: MAX_FILES as i64,
    }
}

fn summary(s: &LimitsSetting) -> serde_json::Value {
    json!({
        "max_file_bytes": s.limits.max_file_bytes,
        "max_message_bytes": s.limits.max_message_bytes,
        "customised": s.updated_at.is_some(),
    })
}

/// The settings with the plan's storage figure, read in `tx`.
async fn settings_view(
    tx: &mut kabinet_db::TenantTx,
    setting: LimitsSetting,
) -> Result<AttachmentSettings, ApiError> {
    let status = plans::plan_status(tx).await?;
    let storage = status.usage.iter().find(|u| u.limit == PlanLimit::Storage);
    Ok(AttachmentSettings {
        max_file_bytes: setting.limits.max_file_bytes,
        max_message_bytes: setting.limits.max_message_bytes,
        max_files: MAX_FILES as i64,
        platform_max_file_bytes: AttachmentLimits::PLATFORM.max_file_bytes,
        platform_max_message_bytes: AttachmentLimits::PLATFORM.max_message_bytes,
        customised: setting.updated_at.is_some(),
        storage_used_bytes: storage.map_or(0, |u| u.used),
        storage_max_bytes: storage.and_then(|u| u.max),
    })
}

#[OpenApi(tag = "Tag::Console")]
impl StorageSettingsApi {
    /// The ISP's attachment limits, the platform's caps and the storage in use.
    #[oai(
        path = "/console/settings/attachments",
        method = "get",
        operation_id = "getAttachmentSettings"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<AttachmentSettings>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let setting = attachment_limits::setting(&mut tx).await?;
        let view = settings_view(&mut tx, setting).await?;
        tx.commit().await?;
        Ok(Json(view))
    }

    /// Sets the ISP's attachment limits (within the platform's caps; a file no larger than a
    /// message). Applies to the next upload. Audited with before and after. Out of bounds:
    /// 422 `invalid`.
    #[oai(
        path = "/console/settings/attachments",
        method = "put",
        operation_id = "updateAttachmentSettings"
    )]
    async fn put(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<AttachmentSettingsInput>,
    ) -> Result<Json<AttachmentSettings>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let limits = AttachmentLimits {
            max_file_bytes: body.0.max_file_bytes,
            max_message_bytes: body.0.max_message_bytes,
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (before, after) = attachment_limits::put(&mut tx, staff.id, limits).await?;
        staff
            .audit(
                &mut tx,
                "settings.attachments",
                format!("tenant:{}", staff.tenant.slug),
                json!({ "before": summary(&before), "after": summary(&after) }),
            )
            .await?;
        let view = settings_view(&mut tx, after).await?;
        tx.commit().await?;
        Ok(Json(view))
    }

    /// What the files of one message may take at this ISP, for the upload form.
    #[oai(
        path = "/me/attachment-limits",
        method = "get",
        operation_id = "getMyAttachmentLimits",
        tag = "Tag::Portal"
    )]
    async fn mine(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<AttachmentLimitsView>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let limits = attachment_limits::get(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(limits_view(limits)))
    }
}
