//! The audit log for the ISP's owner (`/console/audit…`): search with keyset pagination, a
//! streamed CSV export and the hash chain's verification. All need `audit.read`.

use chrono::{DateTime, Utc};
use kabinet_access::Permission;
use kabinet_access::audit::{
    self, Actor, AuditFilter, ChainBreak, Checkpoint, CheckpointCheck, LoggedEntry,
};
use poem::Body;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::{Attachment, AttachmentType, Json};
use poem_openapi::types::Any;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use crate::AppState;
use crate::auth::StaffAuth;
use crate::problem::ApiError;

pub struct AuditApi;

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename = "AuditActorKind", rename_all = "snake_case")]
pub enum ActorKind {
    Staff,
    /// A person of the platform operator (support, suspension…).
    Operator,
    /// Kabinet itself (scheduled work, provisioning).
    System,
}

#[derive(Debug, Object)]
pub struct AuditActor {
    pub kind: ActorKind,
    #[oai(skip_serializing_if_is_none)]
    pub id: Option<Uuid>,
    /// Name (or e-mail) as it is now; absent when the person no longer exists.
    #[oai(skip_serializing_if_is_none)]
    pub name: Option<String>,
}

#[derive(Debug, Object)]
pub struct AuditLogEntry {
    /// Position in the ISP's hash chain (1, 2, 3… with no gaps).
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    /// `noun.verb`, e.g. `role.update`.
    pub action: String,
    /// `kind:id`, e.g. `staff:0193…`.
    pub target: String,
    /// What changed; `before` and `after` for changes that have them.
    pub details: Any<serde_json::Value>,
    /// Where the request came from.
    #[oai(skip_serializing_if_is_none)]
    pub client_addr: Option<String>,
}

impl From<LoggedEntry> for AuditLogEntry {
    fn from(e: LoggedEntry) -> Self {
        let actor = match e.actor {
            Actor::Staff {
                id,
                display_name,
                email,
            } => AuditActor {
                kind: ActorKind::Staff,
                id: Some(id),
                name: display_name.or(email),
            },
            Actor::Operator { id, display_name } => AuditActor {
                kind: ActorKind::Operator,
                id: Some(id),
                name: display_name,
            },
            Actor::System => AuditActor {
                kind: ActorKind::System,
                id: None,
                name: None,
            },
        };
        Self {
            seq: e.seq,
            at: e.at,
            actor,
            action: e.action,
            target: e.target,
            details: Any(e.details),
            client_addr: e.client_addr,
        }
    }
}

#[derive(Debug, Object)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditLogEntry>,
    /// Pass as `before` for the next, older page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_before: Option<i64>,
}

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum ChainState {
    /// Every entry matches its hash and links to the one before.
    Intact,
    Broken,
}

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum ChainBreakKind {
    /// The entry was altered after it was written.
    HashMismatch,
    /// The entry does not link to the one before it.
    LinkMismatch,
    /// An entry is missing.
    Gap,
    /// The newest entries are missing.
    HeadMismatch,
}

impl From<ChainBreak> for ChainBreakKind {
    fn from(b: ChainBreak) -> Self {
        match b {
            ChainBreak::HashMismatch => Self::HashMismatch,
            ChainBreak::LinkMismatch => Self::LinkMismatch,
            ChainBreak::Gap => Self::Gap,
            ChainBreak::HeadMismatch => Self::HeadMismatch,
        }
    }
}

/// What the chain says of a checkpoint noted down earlier.
#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum CheckpointResult {
    /// The entry at that seq still has that hash: nothing up to it was rewritten.
    Matches,
    /// The entry at that seq has another hash: the log was rewritten up to there.
    Differs,
    /// The log has no entry at that seq.
    Missing,
    /// The chain breaks before that seq (see `broken_seq`).
    Unchecked,
}

impl From<CheckpointCheck> for CheckpointResult {
    fn from(c: CheckpointCheck) -> Self {
        match c {
            CheckpointCheck::Matches => Self::Matches,
            CheckpointCheck::Differs => Self::Differs,
            CheckpointCheck::Missing => Self::Missing,
            CheckpointCheck::Unchecked => Self::Unchecked,
        }
    }
}

#[derive(Debug, Object)]
pub struct ChainVerification {
    pub state: ChainState,
    /// Entries checked.
    pub entries: i64,
    /// The newest entry's seq and hash (hex): note them down to prove later that nothing
    /// before them was rewritten.
    #[oai(skip_serializing_if_is_none)]
    pub head_seq: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub head_hash: Option<String>,
    /// The first broken entry.
    #[oai(skip_serializing_if_is_none)]
    pub broken_seq: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub broken_reason: Option<ChainBreakKind>,
    /// Given a checkpoint: whether the log still holds it.
    #[oai(skip_serializing_if_is_none)]
    pub checkpoint: Option<CheckpointResult>,
}

#[derive(ApiResponse)]
enum AuditCsv {
    /// Every matching entry as CSV, newest first, streamed.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(Attachment<Body>),
}

fn filter(
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> AuditFilter {
    AuditFilter {
        actor,
        action,
        target,
        from,
        to,
    }
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl AuditApi {
    /// The audit log, newest first, keyset-paginated. Filters combine (AND).
    #[oai(path = "/audit", method = "get", operation_id = "listAudit")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// Part of the actor's name or e-mail, any case.
        #[oai(validator(max_length = 200))]
        actor: Query<Option<String>>,
        /// An action (`role.update`) or its noun (`role`).
        #[oai(validator(max_length = 100))]
        action: Query<Option<String>>,
        /// Part of the target, any case.
        #[oai(validator(max_length = 200))]
        target: Query<Option<String>>,
        /// From this instant (inclusive).
        from: Query<Option<DateTime<Utc>>>,
        /// Up to this instant (exclusive).
        to: Query<Option<DateTime<Utc>>>,
        /// `next_before` of the previous page.
        #[oai(validator(minimum(value = "1")))]
        before: Query<Option<i64>>,
        /// Page size (1–200, default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
    ) -> Result<Json<AuditPage>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::AuditRead).await?;
        let filter = filter(actor.0, action.0, target.0, from.0, to.0);
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let page = audit::search(&mut tx, &filter, before.0, limit.0.unwrap_or(50)).await?;
        tx.commit().await?;
        Ok(Json(AuditPage {
            items: page.items.into_iter().map(Into::into).collect(),
            next_before: page.next,
        }))
    }

    /// Every entry matching the same filters as CSV, streamed (any size, bounded memory).
    #[oai(path = "/audit.csv", method = "get", operation_id = "exportAudit")]
    #[allow(clippy::too_many_arguments)]
    async fn export(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 200))] actor: Query<Option<String>>,
        #[oai(validator(max_length = 100))] action: Query<Option<String>>,
        #[oai(validator(max_length = 200))] target: Query<Option<String>>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
    ) -> Result<AuditCsv, ApiError> {
        let staff = auth.0;
        staff.require(Permission::AuditRead).await?;
        let filter = filter(actor.0, action.0, target.0, from.0, to.0);
        // Open the transaction before answering, so a database failure is still a proper
        // error rather than a cut-off download.
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (mut writer, reader) = tokio::io::duplex(64 * 1024);
        let tenant = staff.tenant.slug.to_string();
        tokio::spawn(async move {
            match audit::export_csv(&mut tx, &filter, &mut writer).await {
                Ok(()) => {
                    let _ = tx.commit().await;
                }
                // The client has the status line already; all we can do is stop and log.
                Err(e) => tracing::warn!(tenant, error = %e, "audit export stopped"),
            }
        });
        Ok(AuditCsv::Ok(
            Attachment::new(Body::from_async_read(reader))
                .attachment_type(AttachmentType::Attachment)
                .filename(format!("audit-{}.csv", Utc::now().format("%Y%m%d-%H%M%S"))),
        ))
    }

    /// Walks the ISP's hash chain and reports whether it is intact, or the first broken entry.
    /// With a checkpoint (a `head_seq` and `head_hash` noted down earlier, outside Kabinet) it
    /// also says whether the log still holds it: a chain rewritten from an altered entry on,
    /// every hash recomputed, verifies as intact but no longer holds an older checkpoint.
    #[oai(
        path = "/audit/verification",
        method = "get",
        operation_id = "verifyAudit"
    )]
    async fn verify(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// The checkpoint's seq (with `checkpoint_hash`).
        #[oai(validator(minimum(value = "1")))]
        checkpoint_seq: Query<Option<i64>>,
        /// The checkpoint's hash: 64 hex digits (with `checkpoint_seq`).
        #[oai(validator(max_length = 64))]
        checkpoint_hash: Query<Option<String>>,
    ) -> Result<Json<ChainVerification>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::AuditRead).await?;
        let checkpoint = match (checkpoint_seq.0, checkpoint_hash.0.as_deref()) {
            (None, None) => None,
            (Some(seq), Some(hash)) => Some(Checkpoint::parse(seq, hash).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_checkpoint",
                    "checkpoint_hash must be 64 hex digits",
                )
            })?),
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_checkpoint",
                    "checkpoint_seq and checkpoint_hash go together",
                ));
            }
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let status = audit::verify(&mut tx, checkpoint.as_ref()).await?;
        tx.commit().await?;
        Ok(Json(verification(&status)))
    }
}

pub fn verification(status: &audit::ChainStatus) -> ChainVerification {
    ChainVerification {
        state: if status.intact() {
            ChainState::Intact
        } else {
            ChainState::Broken
        },
        entries: status.entries,
        head_seq: status.head.as_ref().map(|(seq, _)| *seq),
        head_hash: status
            .head
            .as_ref()
            .map(|(_, hash)| hash.iter().map(|b| format!("{b:02x}")).collect()),
        broken_seq: status.broken.map(|(seq, _)| seq),
        broken_reason: status.broken.map(|(_, why)| why.into()),
        checkpoint: status.checkpoint.map(Into::into),
    }
}
