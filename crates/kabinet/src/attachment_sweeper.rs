//! The orphan sweeper of `kabinet serve`: every `KABINET_ORPHAN_SWEEP_SECS`, each tenant's
//! abandoned attachment objects (a pending upload older than `KABINET_ORPHAN_GRACE_SECS`:
//! the process died or its transaction rolled back between writing the object and recording
//! the attachment) are deleted by `kabinet_ticketing::attachment_sweeper::sweep_tenant`.
//! Safe on any number of nodes: the rows are claimed `FOR UPDATE SKIP LOCKED`.

use std::time::Duration;

use chrono::Utc;
use kabinet_db::Database;
use kabinet_ticketing::attachment_sweeper::sweep_tenant;
use kabinet_ticketing::attachments::AttachmentStore;

/// When the sweeper runs and what it spares.
#[derive(Clone, Copy, Debug)]
pub struct OrphanSweep {
    /// `None`: never.
    pub every: Option<Duration>,
    /// How old a pending upload must be before its object is deleted.
    pub grace: Duration,
}

/// Starts the sweeper (nothing when it is off).
pub fn spawn(
    db: Database,
    store: AttachmentStore,
    settings: OrphanSweep,
) -> Option<tokio::task::JoinHandle<()>> {
    let every = settings.every?;
    let grace = chrono::Duration::from_std(settings.grace)
        .unwrap_or(kabinet_ticketing::attachment_sweeper::DEFAULT_GRACE);
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = sweep_all(&db, &store, grace).await {
                tracing::warn!(error = %e, "orphan sweep failed; retrying next round");
            }
        }
    }))
}

async fn sweep_all(
    db: &Database,
    store: &AttachmentStore,
    grace: chrono::Duration,
) -> anyhow::Result<()> {
    let mut platform = db.platform_tx().await?;
    let tenants = kabinet_tenancy::list_tenants(&mut platform).await?;
    platform.commit().await?;
    for (tenant, _) in tenants {
        match sweep_tenant(db, store, tenant.id, Utc::now(), grace).await {
            Ok(report) if !report.is_empty() => tracing::info!(
                tenant = %tenant.slug,
                deleted = report.deleted,
                failed = report.failed,
                "abandoned attachment objects swept"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(tenant = %tenant.slug, error = %e, "orphan sweep of a tenant failed")
            }
        }
    }
    Ok(())
}
