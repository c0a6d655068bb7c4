//! Deletes the objects that a crashed or rolled-back upload left in the attachment store.
//!
//! [`crate::attachments::attach`] commits a `pending_uploads` row for each object before
//! writing it, and deletes the row in the transaction that records the attachment. A row that
//! is still there after the grace period therefore names an object no attachment will ever
//! own: [`sweep_tenant`] deletes those objects, then their rows. Rows are taken
//! `FOR UPDATE SKIP LOCKED` in batches, so any number of nodes sweep side by side without
//! doing the same work twice, and an upload still committing (it holds its rows' locks) is
//! never touched. An object already gone is no error; one whose delete fails keeps its row
//! for the next round.

use chrono::{DateTime, Duration, Utc};
use kabinet_core::TenantId;
use kabinet_db::{Database, sqlx};
use sqlx::Row;

use crate::TicketingError;
use crate::attachments::{AttachmentError, AttachmentStore};

/// How old a pending upload must be before its object counts as abandoned.
pub const DEFAULT_GRACE: Duration = Duration::hours(1);

/// Rows taken per transaction.
const BATCH: i64 = 200;

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Abandoned objects deleted (or found already gone), rows dropped with them.
    pub deleted: u64,
    /// Objects the store refused to delete; their rows stay for the next round.
    pub failed: u64,
}

impl SweepReport {
    pub fn is_empty(&self) -> bool {
        self.deleted == 0 && self.failed == 0
    }
}

/// Sweeps one tenant: every pending upload created before `now - grace`.
pub async fn sweep_tenant(
    db: &Database,
    store: &AttachmentStore,
    tenant: TenantId,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<SweepReport, AttachmentError> {
    let cutoff = now - grace;
    let mut report = SweepReport::default();
    loop {
        let mut tx = db.tenant_tx(tenant).await.map_err(TicketingError::Db)?;
        // A key an attachment row names is never deleted from the store, whatever its pending
        // row says (the row alone goes).
        let rows = sqlx::query(
            "SELECT p.object_key, EXISTS (SELECT 1 FROM ticket_attachments a \
                 WHERE a.tenant_id = p.tenant_id AND a.object_key = p.object_key) AS recorded \
             FROM pending_uploads p \
             WHERE p.tenant_id = $1 AND p.created_at < $2 \
             ORDER BY p.created_at LIMIT $3 \
             FOR UPDATE OF p SKIP LOCKED",
        )
        .bind(tenant.as_uuid())
        .bind(cutoff)
        .bind(BATCH)
        .fetch_all(tx.conn())
        .await?;
        let taken = rows.len();
        let mut done: Vec<String> = Vec::with_capacity(taken);
        for row in rows {
            let key: String = row.try_get("object_key")?;
            let recorded: bool = row.try_get("recorded")?;
            if recorded {
                done.push(key);
                continue;
            }
            match store.delete(&key).await {
                Ok(()) => {
                    report.deleted += 1;
                    done.push(key);
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(%tenant, %key, error = %e, "could not delete an abandoned attachment object; retrying next round");
                }
            }
        }
        sqlx::query("DELETE FROM pending_uploads WHERE tenant_id = $1 AND object_key = ANY($2)")
            .bind(tenant.as_uuid())
            .bind(&done)
            .execute(tx.conn())
            .await?;
        tx.commit().await.map_err(TicketingError::Db)?;
        // A short batch was the last; a batch with failures stops too (they would come back).
        if taken < BATCH as usize || done.len() < taken {
            return Ok(report);
        }
    }
}
