//! Files on ticket messages and internal notes: checked, cleaned, stored, served.
//!
//! [`prepare`] is pure: it enforces the limits, decides the type from the bytes (never from the
//! name or the client's `Content-Type`), strips EXIF/XMP/ICC/comments from JPEG, PNG and WebP
//! without re-encoding, and hashes the result. [`attach`] then writes the objects to the
//! [`AttachmentStore`] (the `object_store` crate: the local file system, any S3-compatible
//! service, or memory in tests) under `<tenant>/<ticket>/<attachment id>` and their rows in the
//! caller's transaction, after checking the ISP's own limits ([`crate::attachment_limits`]).
//! Each object's key is first committed to `pending_uploads` in a transaction of its own;
//! the caller's transaction deletes those rows as it records the attachments. Until that
//! transaction commits the objects are held by [`Attached`]: dropped without
//! [`Attached::keep`] (the transaction failed), it deletes them and their pending rows, so a
//! rejected or rolled-back upload leaves no orphan object; a process that dies in between
//! leaves its pending rows, and [`crate::attachment_sweeper`] deletes their objects after a
//! grace period. Rows are `ticket_attachments`; an attachment of an internal note is never
//! returned by a subscriber-facing function.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use kabinet_core::{StaffId, SubscriberId, TicketId};
use kabinet_db::{Database, DbError, TenantTx, sqlx};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

use crate::TicketingError;

/// One file may be at most this large (after metadata stripping it only gets smaller).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// All files of one message together.
pub const MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;
/// Files per message.
pub const MAX_FILES: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("at most {max} files per message")]
    TooManyFiles { max: usize },
    #[error("{name:?} is larger than {max} bytes")]
    FileTooLarge { name: String, max: usize },
    #[error("the files of one message may take at most {max} bytes together")]
    MessageTooLarge { max: usize },
    /// Over the ISP's own limit (below the platform's [`MAX_FILE_BYTES`]).
    #[error("{name:?} is larger than this provider's limit of {} per file", human(.max))]
    OverFileLimit { name: String, max: i64 },
    /// Over the ISP's own limit for one message (below the platform's [`MAX_MESSAGE_BYTES`]).
    #[error("the files of one message may take at most {} together at this provider", human(.max))]
    OverMessageLimit { max: i64 },
    /// Limits an ISP may not set.
    #[error("{field}: {reason}")]
    InvalidLimits { field: &'static str, reason: String },
    #[error("{name:?} is empty")]
    EmptyFile { name: String },
    #[error(
        "{name:?} is not an accepted file: PNG, JPEG, WebP or GIF images, PDF documents and plain text only (checked by content)"
    )]
    UnsupportedType { name: String },
    #[error("{name:?} is a damaged image")]
    DamagedImage { name: String },
    #[error("attachment not found")]
    NotFound,
    #[error("object store: {0}")]
    Store(String),
    #[error(transparent)]
    Ticketing(#[from] TicketingError),
}

/// Bytes as people read them: `512 KiB`, `2.5 MiB`.
pub fn human_bytes(n: i64) -> String {
    const MIB: i64 = 1024 * 1024;
    if n >= MIB {
        let tenths = n * 10 / MIB;
        if tenths % 10 == 0 {
            format!("{} MiB", tenths / 10)
        } else {
            format!("{}.{} MiB", tenths / 10, tenths % 10)
        }
    } else if n >= 1024 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

fn human(n: &i64) -> String {
    human_bytes(*n)
}

impl From<sqlx::Error> for AttachmentError {
    fn from(e: sqlx::Error) -> Self {
        Self::Ticketing(TicketingError::Db(DbError::from(e)))
    }
}

impl From<object_store::Error> for AttachmentError {
    fn from(e: object_store::Error) -> Self {
        Self::Store(e.to_string())
    }
}

/// A file as it arrived.
#[derive(Clone, Debug)]
pub struct IncomingFile {
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// A file that passed every check, cleaned and hashed, not stored yet.
#[derive(Clone, Debug)]
pub struct PreparedFile {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Bytes,
    pub sha256: [u8; 32],
}

/// What a thread shows of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub id: Uuid,
    pub message_id: Option<Uuid>,
    pub note_id: Option<Uuid>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: DateTime<Utc>,
}

/// What a file is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachTo {
    Message(Uuid),
    /// An internal note: staff only.
    Note(Uuid),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uploader {
    Subscriber(SubscriberId),
    Staff(StaffId),
}

/// The type of a file, from its first bytes. Plain text is UTF-8 without control characters
/// other than whitespace; anything else unrecognised (executables, archives, HTML is text but
/// is served as an attachment with `nosniff`) is refused.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if std::str::from_utf8(bytes).is_ok_and(|t| {
        !t.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    }) {
        Some("text/plain")
    } else {
        None
    }
}

/// Drops the metadata an image may carry (camera, GPS position, colour profile, comments)
/// without touching the pixels. GIF and PDF are stored as they are.
fn strip_metadata(content_type: &str, bytes: Bytes) -> Result<Bytes, img_parts::Error> {
    use img_parts::{ImageEXIF, ImageICC};
    match content_type {
        "image/jpeg" => {
            let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(bytes)?;
            // APP0 (JFIF) and APP14 (Adobe colour transform) are needed to decode; every other
            // APPn (EXIF and XMP in APP1, ICC in APP2, IPTC in APP13…) and comments go.
            jpeg.segments_mut().retain(|s| {
                let m = s.marker();
                !((0xE1..=0xED).contains(&m) || m == 0xEF || m == 0xFE)
            });
            Ok(jpeg.encoder().bytes())
        }
        "image/png" => {
            let mut png = img_parts::png::Png::from_bytes(bytes)?;
            png.set_exif(None);
            png.set_icc_profile(None);
            for kind in [b"tEXt", b"zTXt", b"iTXt", b"tIME", b"eXIf"] {
                png.remove_chunks_by_type(*kind);
            }
            Ok(png.encoder().bytes())
        }
        "image/webp" => {
            let mut webp = img_parts::webp::WebP::from_bytes(bytes)?;
            webp.remove_chunks_by_id(*b"XMP ");
            webp.set_exif(None);
            webp.set_icc_profile(None);
            Ok(webp.encoder().bytes())
        }
        _ => Ok(bytes),
    }
}

/// A file name safe to store and to put in a header: the last path component, control
/// characters dropped, at most 255 characters; a fallback when nothing is left.
fn clean_file_name(raw: Option<&str>, content_type: &str) -> String {
    let base = raw
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let name: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(255)
        .collect();
    if name.is_empty() || name == "." || name == ".." {
        let ext = match content_type {
            "image/png" => "png",
            "image/jpeg" => "jpg",
            "image/webp" => "webp",
            "image/gif" => "gif",
            "application/pdf" => "pdf",
            _ => "txt",
        };
        format!("attachment.{ext}")
    } else {
        name
    }
}

/// Checks, cleans and hashes the files of one message. Nothing is stored here, so a refusal
/// leaves nothing behind.
pub fn prepare(files: Vec<IncomingFile>) -> Result<Vec<PreparedFile>, AttachmentError> {
    if files.len() > MAX_FILES {
        return Err(AttachmentError::TooManyFiles { max: MAX_FILES });
    }
    let mut total = 0usize;
    let mut prepared = Vec::with_capacity(files.len());
    for file in files {
        let shown = file.file_name.clone().unwrap_or_default();
        if file.bytes.is_empty() {
            return Err(AttachmentError::EmptyFile { name: shown });
        }
        if file.bytes.len() > MAX_FILE_BYTES {
            return Err(AttachmentError::FileTooLarge {
                name: shown,
                max: MAX_FILE_BYTES,
            });
        }
        total += file.bytes.len();
        if total > MAX_MESSAGE_BYTES {
            return Err(AttachmentError::MessageTooLarge {
                max: MAX_MESSAGE_BYTES,
            });
        }
        let content_type = sniff(&file.bytes).ok_or_else(|| AttachmentError::UnsupportedType {
            name: shown.clone(),
        })?;
        let bytes = strip_metadata(content_type, Bytes::from(file.bytes))
            .map_err(|_| AttachmentError::DamagedImage { name: shown })?;
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();
        prepared.push(PreparedFile {
            file_name: clean_file_name(file.file_name.as_deref(), content_type),
            content_type,
            bytes,
            sha256,
        });
    }
    Ok(prepared)
}

/// Where attachment bytes live. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AttachmentStore {
    inner: Arc<dyn ObjectStore>,
}

impl AttachmentStore {
    /// `file:///absolute/dir` (created if missing), `s3://bucket` or `s3://bucket/prefix` (any
    /// S3-compatible service, configured by the standard `AWS_*` variables: see
    /// [`AttachmentStore::s3`]) or `memory:` (tests, throwaway demos).
    pub fn from_url(url: &str) -> Result<Self, AttachmentError> {
        Self::from_url_with(url, std::iter::empty::<(String, String)>())
    }

    /// [`AttachmentStore::from_url`] with S3 settings given here rather than read from the
    /// environment (they override it): the tests' in-process server, or a caller that keeps
    /// its secrets elsewhere. Ignored for other schemes.
    pub fn from_url_with(
        url: &str,
        s3_options: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, AttachmentError> {
        let inner: Arc<dyn ObjectStore> = if url.starts_with("s3://") {
            Self::s3(url, s3_options)?
        } else if let Some(dir) = url.strip_prefix("file://") {
            if !dir.starts_with('/') {
                return Err(AttachmentError::Store(format!(
                    "{url}: a file:// URL needs an absolute path"
                )));
            }
            std::fs::create_dir_all(dir)
                .map_err(|e| AttachmentError::Store(format!("{dir}: {e}")))?;
            Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?)
        } else if url == "memory:" || url.starts_with("memory://") {
            Arc::new(object_store::memory::InMemory::new())
        } else {
            return Err(AttachmentError::Store(format!(
                "{url}: only file:///…, s3://bucket[/prefix] and memory: object stores are built in"
            )));
        };
        Ok(Self { inner })
    }

    /// An S3 bucket, `s3://bucket[/prefix]`. Everything else comes from the environment as
    /// object_store's `AmazonS3Builder::from_env` reads it: `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` (or `AWS_DEFAULT_REGION`), `AWS_ENDPOINT` for a
    /// non-AWS service (MinIO, Ceph, Yandex Object Storage…), `AWS_ALLOW_HTTP=true` for a
    /// plain-HTTP endpoint, `AWS_VIRTUAL_HOSTED_STYLE_REQUEST`; `options` (the same keys,
    /// e.g. `aws_endpoint`) override it. A prefix keeps the objects under that folder.
    fn s3(
        url: &str,
        options: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Arc<dyn ObjectStore>, AttachmentError> {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        let rest = url.strip_prefix("s3://").unwrap_or_default();
        let (bucket, prefix) = match rest.split_once('/') {
            Some((b, p)) => (b, p.trim_matches('/')),
            None => (rest, ""),
        };
        if bucket.is_empty() {
            return Err(AttachmentError::Store(format!(
                "{url}: an s3:// URL names a bucket (s3://bucket or s3://bucket/prefix)"
            )));
        }
        // reqwest's rustls wants a process-wide crypto provider: ring, as everywhere in the
        // workspace (a no-op when one is installed already).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (key, value) in options {
            let key: AmazonS3ConfigKey = key
                .parse()
                .map_err(|e: object_store::Error| AttachmentError::Store(e.to_string()))?;
            builder = builder.with_config(key, value);
        }
        let s3 = builder.build()?;
        Ok(if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
        })
    }

    /// Deletes one object; one that is not there is no error.
    pub(crate) async fn delete(&self, key: &str) -> Result<(), AttachmentError> {
        match self.inner.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether an object is there (tests and checks).
    pub async fn exists(&self, key: &str) -> Result<bool, AttachmentError> {
        match self.inner.head(&ObjectPath::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The object store itself, for whole-tenant work (export archives, deleting a tenant's
    /// objects under `<tenant>/`).
    pub fn objects(&self) -> Arc<dyn ObjectStore> {
        self.inner.clone()
    }

    /// An in-memory store.
    pub fn in_memory() -> Self {
        Self {
            inner: Arc::new(object_store::memory::InMemory::new()),
        }
    }

    async fn get(&self, key: &str) -> Result<Bytes, AttachmentError> {
        Ok(self
            .inner
            .get(&ObjectPath::from(key))
            .await?
            .bytes()
            .await?)
    }
}

/// Objects written for a transaction that has not committed yet. Dropping this without
/// [`Attached::keep`] deletes them and their `pending_uploads` rows (in the background: a drop
/// cannot wait; should that fail too, the sweeper does it later).
#[must_use = "call keep() once the transaction has committed"]
pub struct Attached {
    pub attachments: Vec<Attachment>,
    store: AttachmentStore,
    db: Option<(Database, kabinet_core::TenantId)>,
    keys: Vec<String>,
}

impl Attached {
    /// The transaction committed: the objects stay.
    pub fn keep(mut self) -> Vec<Attachment> {
        self.keys.clear();
        std::mem::take(&mut self.attachments)
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let store = self.store.clone();
        let keys = std::mem::take(&mut self.keys);
        let db = self.db.take();
        let cleanup = async move {
            let mut deleted = Vec::with_capacity(keys.len());
            for key in keys {
                match store.delete(&key).await {
                    Ok(()) => deleted.push(key),
                    Err(e) => {
                        tracing::warn!(%key, error = %e, "could not delete the object of a rolled-back attachment; the sweeper will")
                    }
                }
            }
            if let Some((db, tenant)) = db
                && let Err(e) = forget_pending(&db, tenant, &deleted).await
            {
                tracing::warn!(error = %e, "could not drop the pending rows of deleted objects; the sweeper will");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(cleanup);
            }
            Err(_) => tracing::warn!("no runtime to delete rolled-back attachment objects"),
        }
    }
}

/// Drops the `pending_uploads` rows of `keys` (their objects are gone), in a transaction of
/// its own.
async fn forget_pending(
    db: &Database,
    tenant: kabinet_core::TenantId,
    keys: &[String],
) -> Result<(), AttachmentError> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut tx = db.tenant_tx(tenant).await.map_err(TicketingError::Db)?;
    sqlx::query("DELETE FROM pending_uploads WHERE tenant_id = $1 AND object_key = ANY($2)")
        .bind(tenant.as_uuid())
        .bind(keys)
        .execute(tx.conn())
        .await?;
    tx.commit().await.map_err(TicketingError::Db)?;
    Ok(())
}

/// Stores `files` and records them on a message or note of `ticket`, inside `tx`. The caller
/// commits `tx`, then calls [`Attached::keep`].
///
/// The ISP's limits are checked first (nothing is written when they refuse). Then the objects'
/// keys are committed to `pending_uploads` through `db` (a second, short transaction), the
/// objects written, and in `tx` the pending rows deleted and the attachment rows inserted: a
/// crash anywhere leaves either a recorded attachment or a pending row whose object the
/// sweeper deletes once it is older than its grace period. `now` dates the pending rows.
#[allow(clippy::too_many_arguments)]
pub async fn attach(
    db: &Database,
    tx: &mut TenantTx,
    store: &AttachmentStore,
    ticket: TicketId,
    to: AttachTo,
    uploader: Uploader,
    files: Vec<PreparedFile>,
    now: DateTime<Utc>,
) -> Result<Attached, AttachmentError> {
    let tenant = tx.tenant();
    let mut attached = Attached {
        attachments: Vec::with_capacity(files.len()),
        store: store.clone(),
        db: Some((db.clone(), tenant)),
        keys: Vec::with_capacity(files.len()),
    };
    if files.is_empty() {
        return Ok(attached);
    }
    crate::attachment_limits::get(tx).await?.check(&files)?;
    let ids: Vec<Uuid> = files.iter().map(|_| Uuid::now_v7()).collect();
    let keys: Vec<String> = ids
        .iter()
        .map(|id| format!("{tenant}/{ticket}/{id}"))
        .collect();
    {
        let mut pending = db.tenant_tx(tenant).await.map_err(TicketingError::Db)?;
        sqlx::query(
            "INSERT INTO pending_uploads (tenant_id, object_key, created_at) \
             SELECT $1, k, $3 FROM unnest($2::text[]) AS k",
        )
        .bind(tenant.as_uuid())
        .bind(&keys)
        .bind(now)
        .execute(pending.conn())
        .await?;
        pending.commit().await.map_err(TicketingError::Db)?;
    }
    for (file, key) in files.iter().zip(&keys) {
        // Registered before the write, so a half-written object is deleted too.
        attached.keys.push(key.clone());
        store
            .inner
            .put(
                &ObjectPath::from(key.as_str()),
                PutPayload::from_bytes(file.bytes.clone()),
            )
            .await?;
    }
    // The objects are now the attachments' (if `tx` commits): no longer pending. Fewer rows
    // than keys means the sweeper judged this upload abandoned and deleted its objects.
    let claimed =
        sqlx::query("DELETE FROM pending_uploads WHERE tenant_id = $1 AND object_key = ANY($2)")
            .bind(tenant.as_uuid())
            .bind(&keys)
            .execute(tx.conn())
            .await?
            .rows_affected();
    if claimed != keys.len() as u64 {
        return Err(AttachmentError::Store(
            "the upload took longer than the orphan sweeper's grace period".into(),
        ));
    }
    let (message, note) = match to {
        AttachTo::Message(m) => (Some(m), None),
        AttachTo::Note(n) => (None, Some(n)),
    };
    let (by_subscriber, by_staff) = match uploader {
        Uploader::Subscriber(s) => (Some(s.as_uuid()), None),
        Uploader::Staff(s) => (None, Some(s.as_uuid())),
    };
    let names: Vec<&str> = files.iter().map(|f| f.file_name.as_str()).collect();
    let types: Vec<&str> = files.iter().map(|f| f.content_type).collect();
    let sizes: Vec<i64> = files
        .iter()
        .map(|f| i64::try_from(f.bytes.len()).unwrap_or(i64::MAX))
        .collect();
    let hashes: Vec<Vec<u8>> = files.iter().map(|f| f.sha256.to_vec()).collect();
    let rows = sqlx::query(
        "INSERT INTO ticket_attachments (tenant_id, id, ticket_id, message_id, note_id, file_name, \
           content_type, size_bytes, sha256, object_key, uploaded_by_subscriber_id, uploaded_by_staff_id) \
         SELECT $1, f.id, $2, $3, $4, f.name, f.type, f.size, f.hash, f.key, $5, $6 \
         FROM unnest($7::uuid[], $8::text[], $9::text[], $10::bigint[], $11::bytea[], $12::text[]) \
           WITH ORDINALITY AS f(id, name, type, size, hash, key, n) \
         ORDER BY f.n \
         RETURNING id, message_id, note_id, file_name, content_type, size_bytes, created_at",
    )
    .bind(tenant.as_uuid())
    .bind(ticket.as_uuid())
    .bind(message)
    .bind(note)
    .bind(by_subscriber)
    .bind(by_staff)
    .bind(&ids)
    .bind(&names)
    .bind(&types)
    .bind(&sizes)
    .bind(&hashes)
    .bind(&keys)
    .fetch_all(tx.conn())
    .await?;
    attached.attachments = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    attached.attachments.sort_by_key(|a| a.id);
    Ok(attached)
}

fn from_row(r: &sqlx::postgres::PgRow) -> Result<Attachment, sqlx::Error> {
    Ok(Attachment {
        id: r.try_get("id")?,
        message_id: r.try_get("message_id")?,
        note_id: r.try_get("note_id")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size_bytes: r.try_get("size_bytes")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Which of a thread's files to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Visible {
    Messages,
    Notes,
}

/// A ticket's attachments on messages (or on notes), oldest first, in one query.
pub(crate) async fn for_ticket(
    tx: &mut TenantTx,
    ticket: TicketId,
    which: Visible,
) -> Result<Vec<Attachment>, TicketingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT id, message_id, note_id, file_name, content_type, size_bytes, created_at \
         FROM ticket_attachments WHERE tenant_id = $1 AND ticket_id = $2 \
           AND (CASE WHEN $3 THEN note_id IS NOT NULL ELSE message_id IS NOT NULL END) \
         ORDER BY created_at, id",
    )
    .bind(tenant.as_uuid())
    .bind(ticket.as_uuid())
    .bind(which == Visible::Notes)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// A file to hand out: its row and its bytes.
#[derive(Clone, Debug)]
pub struct Download {
    pub attachment: Attachment,
    pub bytes: Bytes,
}

/// An attachment of the subscriber's own ticket, on a public message only. Another
/// subscriber's, a note's, or a missing one: [`AttachmentError::NotFound`] alike.
pub async fn open_for_subscriber(
    tx: &mut TenantTx,
    store: &AttachmentStore,
    subscriber: SubscriberId,
    ticket: TicketId,
    id: Uuid,
) -> Result<Download, AttachmentError> {
    open(tx, store, ticket, id, Some(subscriber)).await
}

/// Any attachment of the ISP's ticket, notes' included.
pub async fn open_for_staff(
    tx: &mut TenantTx,
    store: &AttachmentStore,
    ticket: TicketId,
    id: Uuid,
) -> Result<Download, AttachmentError> {
    open(tx, store, ticket, id, None).await
}

async fn open(
    tx: &mut TenantTx,
    store: &AttachmentStore,
    ticket: TicketId,
    id: Uuid,
    subscriber: Option<SubscriberId>,
) -> Result<Download, AttachmentError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT a.id, a.message_id, a.note_id, a.file_name, a.content_type, a.size_bytes, \
                a.created_at, a.object_key \
         FROM ticket_attachments a JOIN tickets t ON t.tenant_id = a.tenant_id AND t.id = a.ticket_id \
         WHERE a.tenant_id = $1 AND a.ticket_id = $2 AND a.id = $3 \
           AND ($4::uuid IS NULL OR (t.subscriber_id = $4 AND a.message_id IS NOT NULL))",
    )
    .bind(tenant.as_uuid())
    .bind(ticket.as_uuid())
    .bind(id)
    .bind(subscriber.map(|s| s.as_uuid()))
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AttachmentError::NotFound)?;
    let attachment = from_row(&row)?;
    let key: String = row.try_get("object_key")?;
    let bytes = store.get(&key).await?;
    Ok(Download { attachment, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff("Привет\r\n\tмир".as_bytes()), Some("text/plain"));
        // A Windows executable, an ELF binary, a zip, text with NULs.
        for bad in [
            &b"MZ\x90\0\x03\0\0\0"[..],
            b"\x7fELF\x02\x01",
            b"PK\x03\x04",
            b"abc\0def",
        ] {
            assert_eq!(sniff(bad), None);
        }
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(
            clean_file_name(Some("C:\\Users\\me\\scan.pdf"), "application/pdf"),
            "scan.pdf"
        );
        assert_eq!(
            clean_file_name(Some("../../etc/passwd"), "text/plain"),
            "passwd"
        );
        assert_eq!(clean_file_name(Some("a\r\nb.png"), "image/png"), "ab.png");
        assert_eq!(clean_file_name(None, "image/jpeg"), "attachment.jpg");
        assert_eq!(clean_file_name(Some(".."), "image/gif"), "attachment.gif");
    }

    #[test]
    fn limits_are_enforced_before_anything_is_stored() {
        let text = |n: usize| IncomingFile {
            file_name: Some("a.txt".into()),
            bytes: vec![b'a'; n],
        };
        assert!(matches!(
            prepare(vec![text(1); MAX_FILES + 1]),
            Err(AttachmentError::TooManyFiles { .. })
        ));
        assert!(matches!(
            prepare(vec![text(MAX_FILE_BYTES + 1)]),
            Err(AttachmentError::FileTooLarge { .. })
        ));
        assert!(matches!(
            prepare(vec![text(MAX_FILE_BYTES); 3]),
            Err(AttachmentError::MessageTooLarge { .. })
        ));
        assert!(matches!(
            prepare(vec![text(0)]),
            Err(AttachmentError::EmptyFile { .. })
        ));
        let ok = prepare(vec![text(3)]).expect("fine");
        assert_eq!(ok[0].content_type, "text/plain");
        assert_eq!(ok[0].sha256, <[u8; 32]>::from(Sha256::digest(b"aaa")));
    }

    #[test]
    fn jpeg_metadata_is_stripped_and_the_picture_kept() {
        // SOI, APP0 (JFIF), APP1 (Exif with a GPS tag name inside), COM, a minimal
        // SOS with entropy data, EOI.
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        jpeg.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let exif = b"Exif\0\0GPSLatitude 55.7558";
        jpeg.extend_from_slice(&[0xFF, 0xE1, 0x00, (exif.len() + 2) as u8]);
        jpeg.extend_from_slice(exif);
        jpeg.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x07]);
        jpeg.extend_from_slice(b"hello");
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
        jpeg.extend_from_slice(&[0x12, 0x34, 0x56]);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        let out = strip_metadata("image/jpeg", Bytes::from(jpeg)).expect("parses");
        let hay = |needle: &[u8]| out.windows(needle.len()).any(|w| w == needle);
        assert!(!hay(b"GPSLatitude"));
        assert!(!hay(b"Exif"));
        assert!(!hay(b"hello"));
        assert!(hay(b"JFIF"));
        assert!(hay(&[0x12, 0x34, 0x56]));
        assert!(out.starts_with(&[0xFF, 0xD8]) && out.ends_with(&[0xFF, 0xD9]));
    }
}
