//! Outgoing e-mail, one job: a per-tenant outbox and its delivery over SMTP.
//!
//! A feature that wants to tell someone something calls [`enqueue`] inside the very transaction
//! that makes the change (a reset token, a ticket reply), so the message exists exactly when the
//! change does. The [`Sender`] worker of `kabinet serve` delivers it later: it claims due rows
//! with `FOR UPDATE SKIP LOCKED` and leases them while it talks SMTP, so any number of nodes share
//! the work without sending one message twice at once, and retries with backoff.
//!
//! Owns `mail_outbox`. Without an SMTP server configured nothing is sent: mail stays queued until
//! one is (see [`MailSettings`]).

mod layout;
mod message;
mod sender;

use kabinet_db::{DbError, TenantTx, sqlx};
use uuid::Uuid;

pub use layout::{HtmlLetter, escape_html};
pub use message::Language;
pub use sender::{Delivered, MailSettings, RetryPolicy, Sender, spawn_worker};

/// The LISTEN/NOTIFY channel a new outbox row rings (payload: the tenant id).
pub const MAIL_CHANNEL: &str = "kabinet_mail";

/// One message to one recipient. The sender's address is the platform's (`KABINET_MAIL_FROM`);
/// `from_name` is the display name in front of it, normally the ISP's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub from_name: Option<String>,
    /// Where answers go (the ISP's support address), if not to the sender.
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    /// An HTML alternative to `text`, if any. `text` is always sent.
    pub html: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid mail {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("mail settings: {0}")]
    Settings(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for MailError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Queues `mail` in the tenant's outbox, as part of `tx`: it is sent only if `tx` commits.
/// Addresses are checked here, so a message that cannot be sent is refused now, not at 3 a.m.
pub async fn enqueue(tx: &mut TenantTx, mail: Mail) -> Result<Uuid, MailError> {
    let mail = message::validated(mail)?;
    let tenant = tx.tenant();
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO mail_outbox (tenant_id, id, to_addr, from_name, reply_to, subject, text_body, html_body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&mail.to)
    .bind(&mail.from_name)
    .bind(&mail.reply_to)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Queues `mail` like [`enqueue`], once per `key` (the event it tells about, e.g.
/// `ticket-reply:<message id>`): a second call with the same key in this tenant queues nothing
/// and returns `None`, so a retried event never sends a second letter.
pub async fn enqueue_once(
    tx: &mut TenantTx,
    key: &str,
    mail: Mail,
) -> Result<Option<Uuid>, MailError> {
    let mail = message::validated(mail)?;
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "INSERT INTO mail_outbox (tenant_id, id, to_addr, from_name, reply_to, subject, text_body, html_body, idempotency_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(&mail.to)
    .bind(&mail.from_name)
    .bind(&mail.reply_to)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(key)
    .fetch_optional(tx.conn())
    .await?)
}

/// Where a queued message stands, for tests and support tooling.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub to_addr: String,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
}

/// The tenant's most recent outbox entries, newest first.
pub async fn recent(tx: &mut TenantTx, limit: i64) -> Result<Vec<OutboxEntry>, MailError> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as::<_, OutboxEntry>(
        "SELECT id, to_addr, subject, status, attempts, last_error FROM mail_outbox \
         WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(tenant.as_uuid())
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}
