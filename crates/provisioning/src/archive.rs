//! A whole tenant's data as one archive, for the operator (before a deletion, or on request).
//!
//! The operator asks ([`request_export`]); a background worker ([`run_pending_exports`], every
//! node, `FOR UPDATE SKIP LOCKED` with a lease so a dead node's job is taken over) builds
//! `exports/<tenant>/<export>.tar.gz` in the attachments' object store:
//!
//! - `export.json`: the tenant, the time, the row count of each table and the object count;
//! - `tables/<table>.csv`: every row of each table that has a `tenant_id` column, found in the
//!   catalog (so a table added later is never forgotten), plus `tables/tenants.csv`; one
//!   `COPY (SELECT …) TO STDOUT (FORMAT csv, HEADER)` each, all in one `REPEATABLE READ`
//!   snapshot, so the files agree with each other;
//! - `objects/<key>`: every object stored under the tenant's prefix (`<tenant>/…`, the ticket
//!   attachments).
//!
//! The archive is built in a temporary directory and uploaded in parts, so memory stays flat
//! whatever the tenant's size. Exports (row and archive) outlive the tenant's deletion.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use kabinet_core::TenantId;
use kabinet_db::{Database, DbError, sqlx};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sqlx::Row;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// Tables of this feature itself: records *about* tenants, kept out of archives and deletions.
pub(crate) const OWN_TABLES: &[&str] = &["tenant_exports", "tenant_deletions"];

/// How long a worker may hold an export before another node takes it over.
const LEASE_MINUTES: i32 = 30;
/// Attempts before an export is marked failed.
const MAX_ATTEMPTS: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("no such export")]
    NotFound,
    #[error("the export is not finished yet")]
    NotReady,
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("building the archive: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ArchiveError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportState {
    Queued,
    Running,
    Done,
    Failed,
}

impl ExportState {
    fn parse(raw: &str) -> Self {
        match raw {
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => Self::Queued,
        }
    }
}

/// One export as the operator sees it.
#[derive(Clone, Debug)]
pub struct ExportRecord {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub slug: String,
    pub requested_by_name: String,
    pub state: ExportState,
    pub bytes: Option<i64>,
    pub tables: Option<i32>,
    pub rows_exported: Option<i64>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, tenant_id, slug, requested_by_name, state, bytes, tables, rows_exported, \
                       error, created_at, finished_at";

fn record(r: &sqlx::postgres::PgRow) -> Result<ExportRecord, sqlx::Error> {
    Ok(ExportRecord {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        slug: r.try_get("slug")?,
        requested_by_name: r.try_get("requested_by_name")?,
        state: ExportState::parse(r.try_get("state")?),
        bytes: r.try_get("bytes")?,
        tables: r.try_get("tables")?,
        rows_exported: r.try_get("rows_exported")?,
        error: r.try_get("error")?,
        created_at: r.try_get("created_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

/// Queues an export of `tenant`. While one is queued or running, that one is returned instead
/// (asking twice builds one archive).
pub async fn request_export(
    db: &Database,
    tenant: TenantId,
    slug: &str,
    operator: Uuid,
    operator_name: &str,
) -> Result<ExportRecord, ArchiveError> {
    let mut tx = db.platform_tx().await?;
    // One request at a time per tenant, across nodes.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('kabinet.export.' || $1))")
        .bind(tenant.as_uuid().to_string())
        .execute(tx.conn())
        .await?;
    let pending = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tenant_exports WHERE tenant_id = $1 AND state IN ('queued', 'running') \
         ORDER BY created_at DESC LIMIT 1"
    ))
    .bind(tenant.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    let row =
        match pending {
            Some(row) => row,
            None => sqlx::query(&format!(
                "INSERT INTO tenant_exports (id, tenant_id, slug, requested_by, requested_by_name) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
            ))
            .bind(Uuid::now_v7())
            .bind(tenant.as_uuid())
            .bind(slug)
            .bind(operator)
            .bind(operator_name)
            .fetch_one(tx.conn())
            .await?,
        };
    tx.commit().await?;
    Ok(record(&row)?)
}

/// An ISP's latest export, as the operator's tenant list shows it.
#[derive(Clone, Debug)]
pub struct LatestExport {
    pub id: Uuid,
    pub state: ExportState,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub bytes: Option<i64>,
}

/// Where an ISP stands at the end of its life: its latest export, its scheduled deletion (id,
/// due) if any, and whether a deletion may be scheduled now (a fresh export and none scheduled).
#[derive(Clone, Debug)]
pub struct LifecycleSummary {
    pub latest_export: Option<LatestExport>,
    pub scheduled_deletion: Option<(Uuid, DateTime<Utc>)>,
    pub can_schedule: bool,
}

/// The lifecycle summary of every ISP in `tenants` at `now`, in one statement (the operator's
/// list), never a query per row.
pub async fn lifecycle_summaries(
    conn: &mut sqlx::PgConnection,
    tenants: &[TenantId],
    now: DateTime<Utc>,
) -> Result<HashMap<TenantId, LifecycleSummary>, ArchiveError> {
    let ids: Vec<Uuid> = tenants.iter().map(|t| t.as_uuid()).collect();
    let rows = sqlx::query(
        "SELECT t.id, e.id AS export_id, e.state, e.created_at, e.finished_at, e.bytes, \
           d.id AS deletion_id, d.due_at, f.tenant_id IS NOT NULL AS fresh \
         FROM unnest($1::uuid[]) AS t(id) \
         LEFT JOIN (SELECT DISTINCT ON (tenant_id) tenant_id, id, state, created_at, finished_at, bytes \
           FROM tenant_exports WHERE tenant_id = ANY($1) \
           ORDER BY tenant_id, created_at DESC, id DESC) e ON e.tenant_id = t.id \
         LEFT JOIN (SELECT DISTINCT tenant_id FROM tenant_exports \
           WHERE tenant_id = ANY($1) AND state = 'done' \
             AND finished_at > $2 - make_interval(hours => $3)) f ON f.tenant_id = t.id \
         LEFT JOIN tenant_deletions d ON d.tenant_id = t.id AND d.state = 'scheduled'",
    )
    .bind(&ids)
    .bind(now)
    .bind(crate::deletion::EXPORT_FRESH_HOURS as i32)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let export_id: Option<Uuid> = row.try_get("export_id")?;
            let latest_export = match export_id {
                Some(id) => Some(LatestExport {
                    id,
                    state: ExportState::parse(row.try_get("state")?),
                    created_at: row.try_get("created_at")?,
                    finished_at: row.try_get("finished_at")?,
                    bytes: row.try_get("bytes")?,
                }),
                None => None,
            };
            let deletion_id: Option<Uuid> = row.try_get("deletion_id")?;
            let due_at: Option<DateTime<Utc>> = row.try_get("due_at")?;
            let scheduled_deletion = deletion_id.zip(due_at);
            let fresh: bool = row.try_get("fresh")?;
            Ok((
                TenantId(row.try_get("id")?),
                LifecycleSummary {
                    latest_export,
                    can_schedule: fresh && scheduled_deletion.is_none(),
                    scheduled_deletion,
                },
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The tenant's exports, newest first (also after the tenant is gone).
pub async fn list_exports(db: &Database, tenant: Uuid) -> Result<Vec<ExportRecord>, ArchiveError> {
    let mut tx = db.platform_tx().await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tenant_exports WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 50"
    ))
    .bind(tenant)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows.iter().map(record).collect::<Result<_, _>>()?)
}

/// A finished export's archive, streamed from the object store.
pub async fn open_archive(
    db: &Database,
    store: &Arc<dyn ObjectStore>,
    export: Uuid,
) -> Result<
    (
        ExportRecord,
        BoxStream<'static, Result<Bytes, ArchiveError>>,
    ),
    ArchiveError,
> {
    let mut tx = db.platform_tx().await?;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, object_key FROM tenant_exports WHERE id = $1"
    ))
    .bind(export)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(ArchiveError::NotFound)?;
    tx.commit().await?;
    let rec = record(&row)?;
    let key: Option<String> = row.try_get("object_key")?;
    let (ExportState::Done, Some(key)) = (rec.state, key) else {
        return Err(ArchiveError::NotReady);
    };
    let stream = store
        .get(&ObjectPath::from(key.as_str()))
        .await?
        .into_stream()
        .map(|chunk| chunk.map_err(ArchiveError::from))
        .boxed();
    Ok((rec, stream))
}

/// The tables holding a tenant's rows: every table with a `tenant_id` column (partitions
/// counted through their parent), this feature's own records excepted. From the catalog, so a
/// new table is never forgotten.
pub(crate) async fn tenant_tables(
    conn: &mut sqlx::PgConnection,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
           AND c.relname <> ALL($1) ORDER BY 1",
    )
    .bind(OWN_TABLES)
    .fetch_all(conn)
    .await
}

/// A table name from the catalog as an SQL identifier.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Builds every queued export (and any whose worker's lease ran out). Returns how many were
/// finished by this call.
pub async fn run_pending_exports(
    db: &Database,
    store: &Arc<dyn ObjectStore>,
) -> Result<usize, ArchiveError> {
    let mut done = 0;
    loop {
        let mut tx = db.platform_tx().await?;
        sqlx::query(
            "UPDATE tenant_exports SET state = 'failed', lease_until = NULL, \
               error = COALESCE(error, 'the worker building it stopped') \
             WHERE state = 'running' AND lease_until < now() AND attempts >= $1",
        )
        .bind(MAX_ATTEMPTS)
        .execute(tx.conn())
        .await?;
        let claimed = sqlx::query(
            "UPDATE tenant_exports SET state = 'running', attempts = attempts + 1, \
               started_at = now(), lease_until = now() + make_interval(mins => $1) \
             WHERE id = (SELECT id FROM tenant_exports \
                         WHERE state = 'queued' OR (state = 'running' AND lease_until < now()) \
                         ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1) \
             RETURNING id, tenant_id, slug",
        )
        .bind(LEASE_MINUTES)
        .fetch_optional(tx.conn())
        .await?;
        tx.commit().await?;
        let Some(job) = claimed else {
            return Ok(done);
        };
        let id: Uuid = job.try_get("id")?;
        let tenant: Uuid = job.try_get("tenant_id")?;
        let slug: String = job.try_get("slug")?;
        let result = build(db, store, id, TenantId(tenant), &slug).await;
        let mut tx = db.platform_tx().await?;
        match result {
            Ok(built) => {
                sqlx::query(
                    "UPDATE tenant_exports SET state = 'done', lease_until = NULL, error = NULL, \
                       object_key = $2, bytes = $3, tables = $4, rows_exported = $5, finished_at = now() \
                     WHERE id = $1 AND state = 'running'",
                )
                .bind(id)
                .bind(&built.key)
                .bind(built.bytes)
                .bind(built.tables)
                .bind(built.rows)
                .execute(tx.conn())
                .await?;
                done += 1;
            }
            Err(e) => {
                tracing::error!(export = %id, error = %e, "tenant export failed");
                sqlx::query(
                    "UPDATE tenant_exports SET state = 'failed', lease_until = NULL, error = $2 \
                     WHERE id = $1 AND state = 'running'",
                )
                .bind(id)
                .bind(e.to_string())
                .execute(tx.conn())
                .await?;
            }
        }
        tx.commit().await?;
    }
}

struct Built {
    key: String,
    bytes: i64,
    tables: i32,
    rows: i64,
}

/// Removes the scratch directory however the build ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn build(
    db: &Database,
    store: &Arc<dyn ObjectStore>,
    id: Uuid,
    tenant: TenantId,
    slug: &str,
) -> Result<Built, ArchiveError> {
    let scratch = Scratch(std::env::temp_dir().join(format!("kabinet-export-{id}")));
    let root = scratch.0.join("data");
    tokio::fs::create_dir_all(root.join("tables")).await?;

    let mut tx = db.tenant_snapshot_tx(tenant).await?;
    let tables = tenant_tables(tx.conn()).await?;
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    // The tenant's own row, then each table's rows, in one snapshot. The id is a typed Uuid,
    // so inlining it (COPY takes no parameters) is safe.
    let mut plan: Vec<(String, String)> = vec![(
        "tenants".into(),
        format!("SELECT * FROM tenants WHERE id = '{}'", tenant.as_uuid()),
    )];
    plan.extend(tables.iter().map(|t| {
        (
            t.clone(),
            format!(
                "SELECT * FROM {} WHERE tenant_id = '{}'",
                ident(t),
                tenant.as_uuid()
            ),
        )
    }));
    for (table, select) in &plan {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM ({select}) x"))
            .fetch_one(tx.conn())
            .await?;
        let mut file =
            tokio::fs::File::create(root.join("tables").join(format!("{table}.csv"))).await?;
        let mut copy = tx
            .conn()
            .copy_out_raw(&format!(
                "COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER true)"
            ))
            .await?;
        while let Some(chunk) = copy.next().await {
            file.write_all(&chunk?).await?;
        }
        drop(copy);
        file.flush().await?;
        counts.insert(table.clone(), rows);
    }
    tx.commit().await?;

    // The tenant's objects (ticket attachments) under `<tenant>/`.
    let prefix = ObjectPath::from(tenant.as_uuid().to_string());
    let mut listing = store.list(Some(&prefix));
    let mut objects = 0i64;
    while let Some(meta) = listing.next().await {
        let meta = meta?;
        let relative: &str = meta.location.as_ref();
        let target = root.join("objects").join(relative);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let mut file = tokio::fs::File::create(&target).await?;
        let mut body = store.get(&meta.location).await?.into_stream();
        while let Some(chunk) = body.next().await {
            file.write_all(&chunk?).await?;
        }
        file.flush().await?;
        objects += 1;
    }

    let rows: i64 = counts.values().sum();
    let meta = serde_json::json!({
        "format": "kabinet-tenant-export/1",
        "export_id": id,
        "tenant_id": tenant.as_uuid(),
        "slug": slug,
        "exported_at": Utc::now(),
        "tables": counts,
        "objects": objects,
    });
    tokio::fs::write(
        root.join("export.json"),
        serde_json::to_vec_pretty(&meta).unwrap_or_default(),
    )
    .await?;

    let archive = scratch.0.join("export.tar.gz");
    {
        let (root, archive) = (root.clone(), archive.clone());
        tokio::task::spawn_blocking(move || pack(&root, &archive))
            .await
            .map_err(std::io::Error::other)??;
    }

    let key = format!("exports/{}/{id}.tar.gz", tenant.as_uuid());
    let bytes = upload(store, &key, &archive).await?;
    Ok(Built {
        key,
        bytes,
        tables: i32::try_from(plan.len()).unwrap_or(i32::MAX),
        rows,
    })
}

fn pack(root: &Path, archive: &Path) -> Result<(), std::io::Error> {
    let file = std::fs::File::create(archive)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    tar.append_dir_all(".", root)?;
    tar.into_inner()?.finish()?.sync_all()?;
    Ok(())
}

/// Uploads `file` in parts (8 MiB), never holding it in memory.
async fn upload(store: &Arc<dyn ObjectStore>, key: &str, file: &Path) -> Result<i64, ArchiveError> {
    use tokio::io::AsyncReadExt;
    let path = ObjectPath::from(key);
    let mut writer = WriteMultipart::new(store.put_multipart(&path).await?);
    let mut file = tokio::fs::File::open(file).await?;
    let mut buf = vec![0u8; 8 * 1024 * 1024];
    let mut total = 0i64;
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        writer.wait_for_capacity(4).await?;
        writer.write(&buf[..n]);
        total += n as i64;
    }
    writer.finish().await?;
    Ok(total)
}
