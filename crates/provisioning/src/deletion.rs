//! Deleting a tenant: scheduled by the operator with a reason, carried out after a grace period.
//!
//! [`schedule_deletion`] needs a finished full-data export ([`crate::archive`]) from the last
//! [`EXPORT_FRESH_HOURS`] hours (the tenant is suspended from the moment of scheduling, so
//! nothing but background bookkeeping changes its data after that export), suspends the tenant
//! at once, writes the operator's entry into the ISP's audit chain and e-mails its owners.
//! Until `due_at` (by default [`DEFAULT_GRACE_DAYS`] days later) the operator can
//! [`cancel_deletion`], which restores the status the tenant had before.
//!
//! [`run_due_deletions`] (the background worker, every node) takes each due deletion under
//! `FOR UPDATE SKIP LOCKED` in one transaction: counts the tenant's rows per table, deletes the
//! `tenants` row (every tenant table cascades from it, its hosts too; whatever a table without
//! the cascade still holds is deleted after), and turns the schedule into the tombstone (state
//! `deleted`, rows removed per table, the slug reserved for [`SLUG_RESERVED_DAYS`] days, which a
//! trigger on `tenants` enforces). The objects under `<tenant>/` go afterwards, marked by
//! `objects_purged_at`, so a crash between the two only delays them. Running it again finds
//! nothing to do. The exports and their archives are kept.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use kabinet_access::ClientInfo;
use kabinet_access::audit::record_operator;
use kabinet_core::TenantId;
use kabinet_db::{Database, DbError, TenantTx, sqlx};
use kabinet_mail::{HtmlLetter, Language, Mail, MailError};
use kabinet_tenancy::{TenancyError, TenantStatus, set_tenant_status};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use crate::archive::{ident, tenant_tables};

/// The grace period when the operator names none.
pub const DEFAULT_GRACE_DAYS: i64 = 30;
/// The longest grace period the operator may give.
pub const MAX_GRACE_DAYS: i64 = 365;
/// How recent the export preceding a deletion must be.
pub const EXPORT_FRESH_HOURS: i64 = 24;
/// How long a deleted tenant's slug is not handed out again.
pub const SLUG_RESERVED_DAYS: i64 = 90;

#[derive(Debug, thiserror::Error)]
pub enum DeletionError {
    #[error("no finished export of this tenant from the last {EXPORT_FRESH_HOURS} hours")]
    ExportRequired,
    #[error("a deletion of this tenant is already scheduled")]
    AlreadyScheduled,
    #[error("no deletion of this tenant is scheduled")]
    NotScheduled,
    #[error("a deletion of this tenant is scheduled: cancel the deletion first")]
    ResumeWhileScheduled,
    #[error("the reason must be 10 to 500 characters")]
    InvalidReason,
    #[error("the grace period must be 1 to {MAX_GRACE_DAYS} days")]
    InvalidGrace,
    #[error(transparent)]
    Tenancy(#[from] TenancyError),
    #[error(transparent)]
    Access(#[from] kabinet_access::AccessError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for DeletionError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionState {
    Scheduled,
    Cancelled,
    Deleted,
}

impl DeletionState {
    fn parse(raw: &str) -> Self {
        match raw {
            "cancelled" => Self::Cancelled,
            "deleted" => Self::Deleted,
            _ => Self::Scheduled,
        }
    }
}

/// A scheduled, cancelled or carried-out deletion (the last one is the tenant's tombstone).
#[derive(Clone, Debug)]
pub struct DeletionRecord {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub reason: String,
    pub export_id: Uuid,
    pub requested_by_name: String,
    pub requested_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub state: DeletionState,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by_name: Option<String>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub deleted_rows: Option<serde_json::Value>,
    pub objects_purged_at: Option<DateTime<Utc>>,
    pub slug_reserved_until: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, tenant_id, slug, display_name, reason, export_id, requested_by_name, \
    requested_at, due_at, state, cancelled_at, cancelled_by_name, deleted_at, deleted_rows, \
    objects_purged_at, slug_reserved_until";

fn record(r: &sqlx::postgres::PgRow) -> Result<DeletionRecord, sqlx::Error> {
    Ok(DeletionRecord {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        slug: r.try_get("slug")?,
        display_name: r.try_get("display_name")?,
        reason: r.try_get("reason")?,
        export_id: r.try_get("export_id")?,
        requested_by_name: r.try_get("requested_by_name")?,
        requested_at: r.try_get("requested_at")?,
        due_at: r.try_get("due_at")?,
        state: DeletionState::parse(r.try_get("state")?),
        cancelled_at: r.try_get("cancelled_at")?,
        cancelled_by_name: r.try_get("cancelled_by_name")?,
        deleted_at: r.try_get("deleted_at")?,
        deleted_rows: r.try_get("deleted_rows")?,
        objects_purged_at: r.try_get("objects_purged_at")?,
        slug_reserved_until: r.try_get("slug_reserved_until")?,
    })
}

/// Who acts: an operator, as the audit log names them.
#[derive(Clone, Debug)]
pub struct Actor {
    pub operator: Uuid,
    pub name: String,
    pub client: ClientInfo,
}

/// What the operator asks for.
#[derive(Clone, Debug)]
pub struct ScheduleDeletion {
    pub reason: String,
    /// Days until the deletion runs; [`DEFAULT_GRACE_DAYS`] when `None`.
    pub grace_days: Option<i64>,
}

/// Schedules the deletion of the tenant `tenant`: see the module documentation.
pub async fn schedule_deletion(
    db: &Database,
    tenant: TenantId,
    request: &ScheduleDeletion,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<DeletionRecord, DeletionError> {
    let reason = request.reason.trim();
    if !(10..=500).contains(&reason.chars().count()) {
        return Err(DeletionError::InvalidReason);
    }
    let grace = request.grace_days.unwrap_or(DEFAULT_GRACE_DAYS);
    if !(1..=MAX_GRACE_DAYS).contains(&grace) {
        return Err(DeletionError::InvalidGrace);
    }
    let mut tx = db.tenant_tx(tenant).await?;
    let t = sqlx::query(
        "SELECT slug, display_name, status, suspended_reason FROM tenants WHERE id = $1 FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| TenancyError::UnknownTenant(tenant.to_string()))?;
    let slug: String = t.try_get("slug")?;
    let display_name: String = t.try_get("display_name")?;
    let was_suspended = t.try_get::<String, _>("status")? == "suspended";
    let previous_reason: Option<String> = t.try_get("suspended_reason")?;

    let export: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM tenant_exports WHERE tenant_id = $1 AND state = 'done' \
           AND finished_at > $2 - make_interval(hours => $3) ORDER BY finished_at DESC LIMIT 1",
    )
    .bind(tenant.as_uuid())
    .bind(now)
    .bind(EXPORT_FRESH_HOURS as i32)
    .fetch_optional(tx.conn())
    .await?;
    let Some(export) = export else {
        return Err(DeletionError::ExportRequired);
    };
    let due_at = now + Duration::days(grace);
    let row = sqlx::query(&format!(
        "INSERT INTO tenant_deletions (id, tenant_id, slug, display_name, reason, export_id, \
           requested_by, requested_by_name, requested_at, due_at, was_suspended, previous_suspended_reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(tenant.as_uuid())
    .bind(&slug)
    .bind(&display_name)
    .bind(reason)
    .bind(export)
    .bind(actor.operator)
    .bind(&actor.name)
    .bind(now)
    .bind(due_at)
    .bind(was_suspended)
    .bind(previous_reason.as_deref())
    .fetch_one(tx.conn())
    .await
    .map_err(|e| match kabinet_db::constraint_name(&e) {
        Some("tenant_deletions_scheduled_key") => DeletionError::AlreadyScheduled,
        _ => e.into(),
    })?;
    let deletion = record(&row)?;

    // The operator's own words, as for any suspension: the consoles show the scheduled
    // deletion and its date themselves, in the reader's language.
    let (before, _) = set_tenant_status(&mut tx, TenantStatus::Suspended, Some(reason)).await?;
    record_operator(
        &mut tx,
        actor.operator,
        "tenant.deletion_scheduled",
        format!("tenant:{slug}"),
        json!({
            "operator": { "id": actor.operator, "name": actor.name },
            "reason": reason,
            "export_id": export,
            "due_at": due_at,
            "before": { "status": before.status.as_str() },
            "after": { "status": "suspended" },
        }),
        &actor.client,
    )
    .await?;
    notify_owners(&mut tx, &deletion, Letter::Scheduled).await?;
    tx.commit().await?;
    Ok(deletion)
}

/// Cancels the scheduled deletion of `tenant` and restores the status it had before.
pub async fn cancel_deletion(
    db: &Database,
    tenant: TenantId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<DeletionRecord, DeletionError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let row = sqlx::query(&format!(
        "UPDATE tenant_deletions SET state = 'cancelled', cancelled_at = $2, cancelled_by = $3, \
           cancelled_by_name = $4 \
         WHERE tenant_id = $1 AND state = 'scheduled' \
         RETURNING {COLUMNS}, was_suspended, previous_suspended_reason"
    ))
    .bind(tenant.as_uuid())
    .bind(now)
    .bind(actor.operator)
    .bind(&actor.name)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(DeletionError::NotScheduled)?;
    let deletion = record(&row)?;
    let was_suspended: bool = row.try_get("was_suspended")?;
    let previous_reason: Option<String> = row.try_get("previous_suspended_reason")?;
    let (_, after) = if was_suspended {
        set_tenant_status(&mut tx, TenantStatus::Suspended, previous_reason.as_deref()).await?
    } else {
        set_tenant_status(&mut tx, TenantStatus::Active, None).await?
    };
    record_operator(
        &mut tx,
        actor.operator,
        "tenant.deletion_cancelled",
        format!("tenant:{}", deletion.slug),
        json!({
            "operator": { "id": actor.operator, "name": actor.name },
            "deletion_id": deletion.id,
            "before": { "status": "suspended" },
            "after": { "status": after.status.as_str() },
        }),
        &actor.client,
    )
    .await?;
    notify_owners(&mut tx, &deletion, Letter::Cancelled).await?;
    tx.commit().await?;
    Ok(deletion)
}

/// Refuses ([`DeletionError::ResumeWhileScheduled`]) to resume the tenant `tx` is scoped to
/// while its deletion is scheduled: the operator cancels the deletion, which restores the
/// status. Locks the `tenants` row first, as [`schedule_deletion`] does, so a resumption and a
/// scheduling of the same tenant cannot both win. Call it in the resuming transaction.
pub async fn refuse_resume_while_scheduled(tx: &mut TenantTx) -> Result<(), DeletionError> {
    let tenant = tx.tenant();
    sqlx::query("SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE")
        .bind(tenant.as_uuid())
        .execute(tx.conn())
        .await?;
    let scheduled: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM tenant_deletions WHERE tenant_id = $1 AND state = 'scheduled')",
    )
    .bind(tenant.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    if scheduled {
        return Err(DeletionError::ResumeWhileScheduled);
    }
    Ok(())
}

/// The tenant's scheduled deletion, if any, else its most recent one.
pub async fn current_deletion(
    db: &Database,
    tenant: Uuid,
) -> Result<Option<DeletionRecord>, DeletionError> {
    let mut tx = db.platform_tx().await?;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tenant_deletions WHERE tenant_id = $1 \
         ORDER BY state = 'scheduled' DESC, requested_at DESC LIMIT 1"
    ))
    .bind(tenant)
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(row.as_ref().map(record).transpose()?)
}

/// Deletions in their grace period and tombstones, newest first.
pub async fn list_deletions(db: &Database) -> Result<Vec<DeletionRecord>, DeletionError> {
    let mut tx = db.platform_tx().await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tenant_deletions WHERE state <> 'cancelled' \
         ORDER BY state = 'scheduled' DESC, requested_at DESC LIMIT 200"
    ))
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows.iter().map(record).collect::<Result<_, _>>()?)
}

/// Whether `slug` belonged to a deleted tenant and is still reserved.
pub async fn slug_reserved(conn: &mut sqlx::PgConnection, slug: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM tenant_deletions WHERE slug = $1 AND state = 'deleted' \
           AND slug_reserved_until > now())",
    )
    .bind(slug)
    .fetch_one(conn)
    .await
}

/// Carries out every deletion due at `now`, then removes the objects of deleted tenants.
/// Returns the deletions carried out by this call. Safe on many nodes at once and to repeat.
pub async fn run_due_deletions(
    db: &Database,
    store: &Arc<dyn ObjectStore>,
    now: DateTime<Utc>,
) -> Result<Vec<DeletionRecord>, DeletionError> {
    let mut tx = db.platform_tx().await?;
    let due: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT id, tenant_id FROM tenant_deletions WHERE state = 'scheduled' AND due_at <= $1 \
         ORDER BY due_at LIMIT 20",
    )
    .bind(now)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    let mut deleted = Vec::new();
    for (id, tenant) in due {
        if let Some(d) = delete_tenant(db, id, TenantId(tenant), now).await? {
            tracing::info!(tenant = %d.slug, deletion = %d.id, "tenant deleted");
            deleted.push(d);
        }
    }
    purge_objects(db, store).await?;
    Ok(deleted)
}

async fn delete_tenant(
    db: &Database,
    id: Uuid,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<Option<DeletionRecord>, DeletionError> {
    let mut tx = db.tenant_tx(tenant).await?;
    // Another node has it, or it was cancelled or carried out meanwhile: nothing to do.
    let claimed: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM tenant_deletions WHERE id = $1 AND state = 'scheduled' AND due_at <= $2 \
         FOR UPDATE SKIP LOCKED",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?;
    if claimed.is_none() {
        return Ok(None);
    }
    let counts = count_rows(&mut tx).await?;
    // The append-only tables' own keys (NO ACTION, deferrable: migration 44) would fail halfway
    // through the cascade whenever a parent goes before its child; checked at commit, they see
    // both gone.
    sqlx::query("SET CONSTRAINTS ALL DEFERRED")
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM tenants WHERE id = $1")
        .bind(tenant.as_uuid())
        .execute(tx.conn())
        .await?;
    // Tables that do not cascade from `tenants` (none today): their rows go one by one.
    for (table, _) in counts.iter().filter(|(_, n)| **n > 0) {
        let left: bool = sqlx::query_scalar(&format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE tenant_id = $1)",
            ident(table)
        ))
        .bind(tenant.as_uuid())
        .fetch_one(tx.conn())
        .await?;
        if left {
            sqlx::query(&format!(
                "DELETE FROM {} WHERE tenant_id = $1",
                ident(table)
            ))
            .bind(tenant.as_uuid())
            .execute(tx.conn())
            .await?;
        }
    }
    let row = sqlx::query(&format!(
        "UPDATE tenant_deletions SET state = 'deleted', deleted_at = $2, deleted_rows = $3, \
           slug_reserved_until = $2 + make_interval(days => $4) \
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(now)
    .bind(serde_json::to_value(&counts).unwrap_or_default())
    .bind(SLUG_RESERVED_DAYS as i32)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(Some(record(&row)?))
}

/// Rows per tenant table (non-empty ones only), before the deletion.
async fn count_rows(tx: &mut TenantTx) -> Result<BTreeMap<String, i64>, DeletionError> {
    let tables = tenant_tables(tx.conn()).await?;
    if tables.is_empty() {
        return Ok(BTreeMap::new());
    }
    let select = tables
        .iter()
        .map(|t| {
            format!(
                "SELECT {name}::text AS t, count(*) AS n FROM {table} WHERE tenant_id = $1",
                name = quote_literal(t),
                table = ident(t)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let rows: Vec<(String, i64)> = sqlx::query_as(&select)
        .bind(tx.tenant().as_uuid())
        .fetch_all(tx.conn())
        .await?;
    Ok(rows.into_iter().filter(|(_, n)| *n > 0).collect())
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Deletes the objects of tenants deleted already, then marks them purged.
async fn purge_objects(db: &Database, store: &Arc<dyn ObjectStore>) -> Result<(), DeletionError> {
    let mut tx = db.platform_tx().await?;
    let pending: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT id, tenant_id FROM tenant_deletions WHERE state = 'deleted' AND objects_purged_at IS NULL \
         ORDER BY deleted_at LIMIT 20",
    )
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    for (id, tenant) in pending {
        let prefix = ObjectPath::from(tenant.to_string());
        let mut listing = store.list(Some(&prefix));
        let mut keys = Vec::new();
        while let Some(meta) = listing.next().await {
            keys.push(meta?.location);
        }
        for key in keys {
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut tx = db.platform_tx().await?;
        sqlx::query("UPDATE tenant_deletions SET objects_purged_at = now() WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Letter {
    Scheduled,
    Cancelled,
}

/// Tells the ISP's active owners, in the ISP's language, inside `tx`.
async fn notify_owners(
    tx: &mut TenantTx,
    deletion: &DeletionRecord,
    letter: Letter,
) -> Result<(), DeletionError> {
    let locale: String = sqlx::query_scalar("SELECT default_locale FROM tenants WHERE id = $1")
        .bind(tx.tenant().as_uuid())
        .fetch_one(tx.conn())
        .await?;
    let owners: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT s.id, s.email FROM staff s \
         JOIN staff_roles r ON r.tenant_id = s.tenant_id AND r.staff_id = s.id \
         WHERE s.tenant_id = $1 AND s.active AND r.role = 'owner' ORDER BY s.id",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    let language = if locale == "en" {
        Language::En
    } else {
        Language::Ru
    };
    for (staff, email) in owners {
        let key = format!(
            "tenant-deletion:{}:{}:{staff}",
            deletion.id,
            match letter {
                Letter::Scheduled => "scheduled",
                Letter::Cancelled => "cancelled",
            }
        );
        kabinet_mail::enqueue_once(tx, &key, letter_mail(letter, language, deletion, &email))
            .await?;
    }
    Ok(())
}

fn letter_mail(letter: Letter, language: Language, d: &DeletionRecord, to: &str) -> Mail {
    let isp = &d.display_name;
    let due = d.due_at.format("%d.%m.%Y");
    let (subject, body): (String, Vec<String>) = match (language, letter) {
        (Language::Ru, Letter::Scheduled) => (
            format!("{isp}: удаление аккаунта Kabinet запланировано на {due}"),
            vec![
                format!("Оператор платформы Kabinet запланировал удаление аккаунта «{isp}». Портал и консоль приостановлены."),
                format!("Причина: {}", d.reason),
                format!("{due} все данные (абоненты, начисления, обращения, файлы) будут удалены безвозвратно. Архив всех данных сохранён у оператора."),
                "Если это ошибка, ответьте на это письмо до этой даты — удаление можно отменить.".into(),
            ],
        ),
        (Language::Ru, Letter::Cancelled) => (
            format!("{isp}: удаление аккаунта Kabinet отменено"),
            vec![format!(
                "Запланированное удаление аккаунта «{isp}» отменено. Данные сохранены."
            )],
        ),
        (Language::En, Letter::Scheduled) => (
            format!("{isp}: your Kabinet account is scheduled for deletion on {due}"),
            vec![
                format!("The Kabinet platform operator scheduled the deletion of \"{isp}\". The portal and the console are suspended."),
                format!("Reason: {}", d.reason),
                format!("On {due} all data (subscribers, billing, tickets, files) will be deleted irreversibly. The operator keeps an archive of all data."),
                "If this is a mistake, reply to this letter before then: the deletion can be cancelled.".into(),
            ],
        ),
        (Language::En, Letter::Cancelled) => (
            format!("{isp}: the deletion of your Kabinet account is cancelled"),
            vec![format!(
                "The scheduled deletion of \"{isp}\" is cancelled. Your data is kept."
            )],
        ),
    };
    let greeting = match language {
        Language::Ru => "Здравствуйте!",
        Language::En => "Hello,",
    };
    let mut html = HtmlLetter::new(greeting);
    for p in &body {
        html = html.paragraph(p);
    }
    Mail {
        to: to.to_owned(),
        from_name: Some("Kabinet".into()),
        reply_to: None,
        subject,
        text: format!("{greeting}\n\n{}\n\n— Kabinet\n", body.join("\n\n")),
        html: Some(html.signature(&["Kabinet"]).finish()),
    }
}

/// The tenant that has `slug`, or the deleted tenant that last had it (for its exports and
/// tombstone).
pub async fn tenant_for_slug(
    db: &Database,
    slug: &kabinet_tenancy::Slug,
) -> Result<Option<Uuid>, DeletionError> {
    let mut tx = db.platform_tx().await?;
    let id: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM (SELECT id, 0 AS rank, now() AS at FROM tenants WHERE slug = $1 \
           UNION ALL SELECT tenant_id, 1, deleted_at FROM tenant_deletions \
           WHERE slug = $1 AND state = 'deleted') t ORDER BY rank, at DESC LIMIT 1",
    )
    .bind(slug.as_str())
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The tenant's current (else latest) deletion, and whether one may be scheduled at `now`.
pub async fn deletion_status(
    db: &Database,
    tenant: Uuid,
    now: DateTime<Utc>,
) -> Result<(Option<DeletionRecord>, bool), DeletionError> {
    let current = current_deletion(db, tenant).await?;
    let mut tx = db.platform_tx().await?;
    let fresh_export: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM tenant_exports WHERE tenant_id = $1 AND state = 'done' \
           AND finished_at > $2 - make_interval(hours => $3)) \
           AND EXISTS (SELECT 1 FROM tenants WHERE id = $1)",
    )
    .bind(tenant)
    .bind(now)
    .bind(EXPORT_FRESH_HOURS as i32)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    let scheduled = current
        .as_ref()
        .is_some_and(|d| d.state == DeletionState::Scheduled);
    Ok((current, fresh_export && !scheduled))
}

/// How often each node looks for queued exports and due deletions.
pub const WORKER_SWEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// The background worker of tenant exports and deletions (one per node; nodes share the work
/// through row locks). A failed pass is logged and retried at the next sweep.
pub fn spawn_worker(
    db: Database,
    store: Arc<dyn ObjectStore>,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = crate::archive::run_pending_exports(&db, &store).await {
                tracing::error!(error = %e, "tenant export pass failed");
            }
            if let Err(e) = run_due_deletions(&db, &store, Utc::now()).await {
                tracing::error!(error = %e, "tenant deletion pass failed");
            }
        }
    })
}
