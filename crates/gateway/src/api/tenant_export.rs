//! Exporting a tenant (manifest, full data) and deleting it after a grace period.
//!
//! `/console/settings/manifest` (`settings.manage`): the ISP's configuration as a manifest file
//! (`kabinet_provisioning::export`). On the operator's host: `/platform/tenants/{slug}/exports`
//! (request and list full-data exports), `/platform/exports/{id}/archive` (download),
//! `/platform/tenants/{slug}/deletion` (state, schedule with a reason, cancel) and
//! `/platform/tenant-deletions` (deletions in their grace period and tombstones). The work is in
//! `kabinet_provisioning::{archive, deletion}`; the worker runs from [`crate::AppState`].

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use kabinet_access::{Permission, Principal};
use kabinet_provisioning::archive::{self, ExportRecord, ExportState};
use kabinet_provisioning::deletion::{
    self, Actor, DeletionRecord, DeletionState, ScheduleDeletion,
};
use kabinet_tenancy::{Slug, find_tenant_by_slug};
use poem::web::Data;
use poem::{Body, Request};
use poem_openapi::param::Path;
use poem_openapi::payload::{Attachment, AttachmentType, Json};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::text::Text;
use crate::AppState;
use crate::auth::{OperatorAuth, StaffAuth, client_info};
use crate::problem::ApiError;

/// The console's manifest download.
pub struct ConsoleManifestApi;

/// The operator's exports and deletions.
pub struct TenantExportApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = (ConsoleManifestApi, TenantExportApi);

pub fn apis() -> Apis {
    (ConsoleManifestApi, TenantExportApi)
}

#[derive(ApiResponse)]
enum ManifestFile {
    /// The manifest (`<slug>.toml`), as `kabinet tenants apply` reads it.
    #[oai(status = 200, content_type = "application/toml; charset=utf-8")]
    Ok(Attachment<Vec<u8>>),
}

#[OpenApi(tag = "Tag::Console")]
impl ConsoleManifestApi {
    /// The ISP's configuration as a tenant manifest (TOML): branding, billing rules, staff,
    /// tariffs, add-ons, equipment, news, articles and subscribers. Passwords are left out.
    #[oai(
        path = "/console/settings/manifest",
        method = "get",
        operation_id = "exportManifest"
    )]
    async fn manifest(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<ManifestFile, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let exported =
            kabinet_provisioning::export::export_manifest(&state.db, staff.tenant.id).await?;
        Ok(ManifestFile::Ok(
            Attachment::new(exported.toml.into_bytes())
                .attachment_type(AttachmentType::Attachment)
                .filename(format!("{}.toml", staff.tenant.slug)),
        ))
    }
}

#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum TenantExportState {
    Queued,
    Running,
    Done,
    Failed,
}

/// A full-data export: an archive (`.tar.gz`) with one CSV file per table of the ISP's rows
/// and its stored files.
#[derive(Debug, Object)]
pub struct TenantExport {
    pub id: Uuid,
    pub slug: String,
    pub state: TenantExportState,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub finished_at: Option<DateTime<Utc>>,
    /// The archive's size.
    #[oai(skip_serializing_if_is_none)]
    pub bytes: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub tables: Option<i32>,
    #[oai(skip_serializing_if_is_none)]
    pub rows: Option<i64>,
    /// Why it failed (for the operator).
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<String>,
}

impl From<ExportRecord> for TenantExport {
    fn from(e: ExportRecord) -> Self {
        Self {
            id: e.id,
            slug: e.slug,
            state: match e.state {
                ExportState::Queued => TenantExportState::Queued,
                ExportState::Running => TenantExportState::Running,
                ExportState::Done => TenantExportState::Done,
                ExportState::Failed => TenantExportState::Failed,
            },
            requested_by: e.requested_by_name,
            created_at: e.created_at,
            finished_at: e.finished_at,
            bytes: e.bytes,
            tables: e.tables,
            rows: e.rows_exported,
            error: e.error,
        }
    }
}

#[derive(Debug, Object)]
pub struct TenantExportList {
    pub items: Vec<TenantExport>,
}

#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum TenantDeletionState {
    /// In its grace period: the tenant is suspended and can still be restored.
    Scheduled,
    Cancelled,
    /// Carried out: this is the tenant's tombstone.
    Deleted,
}

/// A scheduled, cancelled or carried-out deletion.
#[derive(Debug, Object)]
pub struct TenantDeletion {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub state: TenantDeletionState,
    pub reason: String,
    /// The export that preceded it.
    pub export_id: Uuid,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// The end of the grace period: the deletion runs from then on.
    pub due_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub cancelled_by: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Until then nobody may take the slug.
    #[oai(skip_serializing_if_is_none)]
    pub slug_reserved_until: Option<DateTime<Utc>>,
}

impl From<DeletionRecord> for TenantDeletion {
    fn from(d: DeletionRecord) -> Self {
        Self {
            id: d.id,
            slug: d.slug,
            display_name: d.display_name,
            state: match d.state {
                DeletionState::Scheduled => TenantDeletionState::Scheduled,
                DeletionState::Cancelled => TenantDeletionState::Cancelled,
                DeletionState::Deleted => TenantDeletionState::Deleted,
            },
            reason: d.reason,
            export_id: d.export_id,
            requested_by: d.requested_by_name,
            requested_at: d.requested_at,
            due_at: d.due_at,
            cancelled_at: d.cancelled_at,
            cancelled_by: d.cancelled_by_name,
            deleted_at: d.deleted_at,
            slug_reserved_until: d.slug_reserved_until,
        }
    }
}

/// The tenant's deletion as the operator's tenant page shows it.
#[derive(Debug, Object)]
pub struct TenantDeletionStatus {
    /// The scheduled deletion, else the latest cancelled or carried-out one.
    #[oai(skip_serializing_if_is_none)]
    pub deletion: Option<TenantDeletion>,
    /// Whether a deletion may be scheduled now: an export finished in the last 24 hours and
    /// none is scheduled.
    pub can_schedule: bool,
}

#[derive(Debug, Object)]
pub struct TenantDeletionList {
    pub items: Vec<TenantDeletion>,
}

#[derive(Debug, Object)]
pub struct ScheduleTenantDeletion {
    /// Why the tenant is deleted (10 to 500 characters): recorded in the tombstone and told to
    /// the ISP's owners.
    #[oai(validator(max_length = 500))]
    pub reason: Text,
    /// Days until the deletion runs, 1 to 365 (30 unless given).
    #[oai(skip_serializing_if_is_none)]
    pub grace_days: Option<i64>,
}

#[derive(ApiResponse)]
enum ExportRequested {
    /// Queued (or the export already queued or running); a background worker builds it.
    #[oai(status = 202)]
    Accepted(Json<TenantExport>),
}

#[derive(ApiResponse)]
enum DeletionScheduled {
    #[oai(status = 201)]
    Created(Json<TenantDeletion>),
}

#[derive(ApiResponse)]
enum ArchiveFile {
    /// The archive, streamed.
    #[oai(status = 200, content_type = "application/gzip")]
    Ok(Attachment<Body>),
}

fn operator(auth: &OperatorAuth) -> Result<(Uuid, String), ApiError> {
    match &auth.0.principal {
        Principal::Operator {
            id, display_name, ..
        } => Ok((*id, display_name.clone())),
        _ => Err(ApiError::forbidden()),
    }
}

/// The tenant named by `slug`, or (for exports and deletions) the one that had it.
async fn tenant_by_slug(state: &AppState, slug: &str) -> Result<Uuid, ApiError> {
    let slug = Slug::parse(slug).map_err(|_| ApiError::not_found())?;
    deletion::tenant_for_slug(&state.db, &slug)
        .await?
        .ok_or_else(ApiError::not_found)
}

#[OpenApi(prefix_path = "/platform", tag = "Tag::Platform")]
impl TenantExportApi {
    /// Queues a full-data export of an ISP: every table's rows of that ISP as CSV and its
    /// stored files, in one `.tar.gz`, built in the background.
    #[oai(
        path = "/tenants/:slug/exports",
        method = "post",
        operation_id = "requestTenantExport"
    )]
    async fn request(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        slug: Path<String>,
    ) -> Result<ExportRequested, ApiError> {
        let (id, name) = operator(&auth)?;
        let slug = Slug::parse(&slug).map_err(|_| ApiError::not_found())?;
        let mut tx = state.db.platform_tx().await?;
        let tenant = find_tenant_by_slug(tx.conn(), &slug)
            .await?
            .ok_or_else(ApiError::not_found)?;
        tx.commit().await?;
        let export =
            archive::request_export(&state.db, tenant.id, slug.as_str(), id, &name).await?;
        Ok(ExportRequested::Accepted(Json(export.into())))
    }

    /// The ISP's full-data exports, newest first (also after the ISP is deleted).
    #[oai(
        path = "/tenants/:slug/exports",
        method = "get",
        operation_id = "listTenantExports"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        slug: Path<String>,
    ) -> Result<Json<TenantExportList>, ApiError> {
        operator(&auth)?;
        let tenant = tenant_by_slug(&state, &slug).await?;
        let items = archive::list_exports(&state.db, tenant).await?;
        Ok(Json(TenantExportList {
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// Downloads a finished export's archive.
    #[oai(
        path = "/exports/:id/archive",
        method = "get",
        operation_id = "downloadTenantExport"
    )]
    async fn download(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<Uuid>,
    ) -> Result<ArchiveFile, ApiError> {
        operator(&auth)?;
        let store = state.config.attachments.objects();
        let (export, stream) = archive::open_archive(&state.db, &store, id.0).await?;
        let stream = stream.map(|chunk| chunk.map_err(std::io::Error::other));
        Ok(ArchiveFile::Ok(
            Attachment::new(Body::from_bytes_stream(stream))
                .attachment_type(AttachmentType::Attachment)
                .filename(format!(
                    "{}-export-{}.tar.gz",
                    export.slug,
                    export.created_at.format("%Y%m%d-%H%M%S")
                )),
        ))
    }

    /// The ISP's deletion: scheduled (with its countdown), or the latest cancelled or carried out.
    #[oai(
        path = "/tenants/:slug/deletion",
        method = "get",
        operation_id = "getTenantDeletion"
    )]
    async fn status(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        slug: Path<String>,
    ) -> Result<Json<TenantDeletionStatus>, ApiError> {
        operator(&auth)?;
        let tenant = tenant_by_slug(&state, &slug).await?;
        let (current, can_schedule) =
            deletion::deletion_status(&state.db, tenant, Utc::now()).await?;
        Ok(Json(TenantDeletionStatus {
            deletion: current.map(Into::into),
            can_schedule,
        }))
    }

    /// Schedules the ISP's deletion: it is suspended at once, its owners are told by e-mail,
    /// and everything of it is deleted when the grace period ends. Needs an export finished in
    /// the last 24 hours (409 `export_required`).
    #[oai(
        path = "/tenants/:slug/deletion",
        method = "post",
        operation_id = "scheduleTenantDeletion"
    )]
    async fn schedule(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: OperatorAuth,
        slug: Path<String>,
        body: Json<ScheduleTenantDeletion>,
    ) -> Result<DeletionScheduled, ApiError> {
        let (id, name) = operator(&auth)?;
        let tenant = live_tenant(&state, &slug).await?;
        let actor = Actor {
            operator: id,
            name,
            client: client_info(req, &state),
        };
        let request = ScheduleDeletion {
            reason: body.0.reason.0,
            grace_days: body.0.grace_days,
        };
        let scheduled =
            deletion::schedule_deletion(&state.db, tenant, &request, &actor, Utc::now()).await?;
        Ok(DeletionScheduled::Created(Json(scheduled.into())))
    }

    /// Cancels the ISP's scheduled deletion during its grace period; the ISP gets back the
    /// status it had before.
    #[oai(
        path = "/tenants/:slug/deletion",
        method = "delete",
        operation_id = "cancelTenantDeletion"
    )]
    async fn cancel(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: OperatorAuth,
        slug: Path<String>,
    ) -> Result<Json<TenantDeletion>, ApiError> {
        let (id, name) = operator(&auth)?;
        let tenant = live_tenant(&state, &slug).await?;
        let actor = Actor {
            operator: id,
            name,
            client: client_info(req, &state),
        };
        let cancelled = deletion::cancel_deletion(&state.db, tenant, &actor, Utc::now()).await?;
        Ok(Json(cancelled.into()))
    }

    /// Deletions in their grace period, then tombstones of deleted ISPs, newest first.
    #[oai(
        path = "/tenant-deletions",
        method = "get",
        operation_id = "listTenantDeletions"
    )]
    async fn deletions(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
    ) -> Result<Json<TenantDeletionList>, ApiError> {
        operator(&auth)?;
        let items = deletion::list_deletions(&state.db).await?;
        Ok(Json(TenantDeletionList {
            items: items.into_iter().map(Into::into).collect(),
        }))
    }
}

/// An existing tenant named by `slug`.
async fn live_tenant(state: &AppState, slug: &str) -> Result<kabinet_core::TenantId, ApiError> {
    let slug = Slug::parse(slug).map_err(|_| ApiError::not_found())?;
    let mut tx = state.db.platform_tx().await?;
    let tenant = find_tenant_by_slug(tx.conn(), &slug)
        .await?
        .ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    Ok(tenant.id)
}
