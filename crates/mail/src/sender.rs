//! Delivery: claim due outbox rows, send them over SMTP, record the outcome.

use std::time::Duration;

use kabinet_core::TenantId;
use kabinet_db::{Database, sqlx};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use uuid::Uuid;

use crate::{MAIL_CHANNEL, Mail, MailError, message};

/// `KABINET_SMTP_URL`, `KABINET_MAIL_FROM` and the worker's rhythm.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `smtp://host:port` (plain, for a local relay), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS) or `smtps://user:pass@host:465` (TLS). `None`: delivery is off.
    pub smtp_url: Option<String>,
    /// The envelope and `From:` address; the display name in front of it is the ISP's.
    pub from: String,
    /// How often the worker looks for due mail besides being woken by new mail (retries, and
    /// anything queued while it was not listening).
    pub sweep_every: Duration,
    pub retry: RetryPolicy,
}

impl MailSettings {
    /// Checks the URL and the address without connecting anywhere.
    pub fn validate(&self) -> Result<(), MailError> {
        self.sender_address()?;
        if let Some(url) = &self.smtp_url {
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| MailError::Settings(format!("KABINET_SMTP_URL: {e}")))?;
        }
        Ok(())
    }

    fn sender_address(&self) -> Result<lettre::Address, MailError> {
        self.from
            .trim()
            .parse()
            .map_err(|e| MailError::Settings(format!("KABINET_MAIL_FROM: {e}")))
    }
}

/// How delivery failures are retried.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// After this many failed attempts a message is marked `failed`.
    pub max_attempts: i32,
    /// How long a claimed message is left alone by other workers while this one sends it.
    pub lease: Duration,
    /// Messages claimed at once per tenant.
    pub batch: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            lease: Duration::from_secs(300),
            batch: 20,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempts + 1`: 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, …
    pub fn backoff(attempts: i32) -> Duration {
        const STEPS: [u64; 7] = [30, 120, 600, 1800, 3600, 7200, 14_400];
        let index = usize::try_from(attempts.max(1) - 1).unwrap_or(0);
        Duration::from_secs(STEPS[index.min(STEPS.len() - 1)])
    }
}

/// What one delivery pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

impl Delivered {
    fn add(&mut self, other: Delivered) {
        self.sent += other.sent;
        self.retrying += other.retrying;
        self.failed += other.failed;
    }

    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// An SMTP connection pool plus the platform's sender address.
#[derive(Clone)]
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::Address,
    policy: RetryPolicy,
}

#[derive(sqlx::FromRow)]
struct Claimed {
    id: Uuid,
    to_addr: String,
    from_name: Option<String>,
    reply_to: Option<String>,
    subject: String,
    text_body: String,
    html_body: Option<String>,
    attempts: i32,
}

enum Outcome {
    Sent,
    Retry(String),
    Failed(String),
}

impl Sender {
    /// `None` when no SMTP server is configured. Call inside the Tokio runtime (the connection
    /// pool starts a task).
    pub fn new(settings: &MailSettings) -> Result<Option<Self>, MailError> {
        let from = settings.sender_address()?;
        let Some(url) = &settings.smtp_url else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Settings(format!("KABINET_SMTP_URL: {e}")))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        Ok(Some(Self {
            transport,
            from,
            policy: settings.retry,
        }))
    }

    /// Delivers every tenant's due mail.
    pub async fn deliver_all(&self, db: &Database) -> Result<Delivered, MailError> {
        let mut platform = db.platform_tx().await?;
        let tenants = kabinet_tenancy::list_tenants(&mut platform)
            .await
            .map_err(|e| MailError::Settings(format!("listing tenants: {e}")))?;
        platform.commit().await?;
        let mut total = Delivered::default();
        for (tenant, _) in tenants {
            total.add(self.deliver_tenant(db, tenant.id).await?);
        }
        Ok(total)
    }

    /// Delivers one tenant's due mail, batch by batch, until none is due (at most ten batches,
    /// so one busy tenant cannot hold up the others).
    pub async fn deliver_tenant(
        &self,
        db: &Database,
        tenant: TenantId,
    ) -> Result<Delivered, MailError> {
        let mut total = Delivered::default();
        for _ in 0..10 {
            let claimed = self.claim(db, tenant).await?;
            if claimed.is_empty() {
                break;
            }
            for mail in claimed {
                let outcome = self.send(&mail).await;
                let done = self.record(db, tenant, &mail, outcome).await?;
                total.add(done);
            }
        }
        if !total.is_empty() {
            tracing::info!(
                tenant = %tenant,
                sent = total.sent,
                retrying = total.retrying,
                failed = total.failed,
                "mail delivery"
            );
        }
        Ok(total)
    }

    /// Takes up to a batch of due messages and leases them (moves their next attempt past the
    /// lease), in one short transaction: other workers skip them while this one sends.
    async fn claim(&self, db: &Database, tenant: TenantId) -> Result<Vec<Claimed>, MailError> {
        let mut tx = db.tenant_tx(tenant).await?;
        let claimed = sqlx::query_as::<_, Claimed>(
            "UPDATE mail_outbox o SET attempts = o.attempts + 1, \
                    next_attempt_at = now() + make_interval(secs => $3) \
             WHERE o.tenant_id = $1 AND o.id IN ( \
                 SELECT id FROM mail_outbox \
                 WHERE tenant_id = $1 AND status = 'queued' AND next_attempt_at <= now() \
                 ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING o.id, o.to_addr, o.from_name, o.reply_to, o.subject, o.text_body, o.html_body, o.attempts",
        )
        .bind(tenant.as_uuid())
        .bind(self.policy.batch)
        .bind(self.policy.lease.as_secs_f64())
        .fetch_all(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn send(&self, row: &Claimed) -> Outcome {
        let mail = Mail {
            to: row.to_addr.clone(),
            from_name: row.from_name.clone(),
            reply_to: row.reply_to.clone(),
            subject: row.subject.clone(),
            text: row.text_body.clone(),
            html: row.html_body.clone(),
        };
        let message = match message::build(&mail, &self.from, row.id) {
            Ok(m) => m,
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        match self.transport.send(message).await {
            Ok(_) => Outcome::Sent,
            // 5xx: the server will never take it (unknown mailbox, refused sender).
            Err(e) if e.is_permanent() => Outcome::Failed(e.to_string()),
            Err(e) => Outcome::Retry(e.to_string()),
        }
    }

    async fn record(
        &self,
        db: &Database,
        tenant: TenantId,
        row: &Claimed,
        outcome: Outcome,
    ) -> Result<Delivered, MailError> {
        let mut tx = db.tenant_tx(tenant).await?;
        let done = match outcome {
            Outcome::Sent => {
                sqlx::query(
                    "UPDATE mail_outbox SET status = 'sent', sent_at = now(), last_error = NULL \
                     WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.as_uuid())
                .bind(row.id)
                .execute(tx.conn())
                .await?;
                Delivered {
                    sent: 1,
                    ..Delivered::default()
                }
            }
            Outcome::Retry(error) if row.attempts < self.policy.max_attempts => {
                tracing::warn!(tenant = %tenant, mail = %row.id, attempts = row.attempts, %error, "mail not delivered; will retry");
                sqlx::query(
                    "UPDATE mail_outbox SET next_attempt_at = now() + make_interval(secs => $3), \
                            last_error = left($4, 1000) \
                     WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.as_uuid())
                .bind(row.id)
                .bind(RetryPolicy::backoff(row.attempts).as_secs_f64())
                .bind(&error)
                .execute(tx.conn())
                .await?;
                Delivered {
                    retrying: 1,
                    ..Delivered::default()
                }
            }
            Outcome::Retry(error) | Outcome::Failed(error) => {
                tracing::error!(tenant = %tenant, mail = %row.id, attempts = row.attempts, %error, "mail delivery failed for good");
                sqlx::query(
                    "UPDATE mail_outbox SET status = 'failed', last_error = left($3, 1000) \
                     WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.as_uuid())
                .bind(row.id)
                .bind(&error)
                .execute(tx.conn())
                .await?;
                Delivered {
                    failed: 1,
                    ..Delivered::default()
                }
            }
        };
        tx.commit().await?;
        Ok(done)
    }

    /// Wakes up for every `kabinet_mail` notification (that tenant's new mail) and every
    /// `sweep_every` (all tenants: retries, and what arrived while not listening).
    async fn run(self, db: Database, sweep_every: Duration) {
        loop {
            let mut listener = match db.listener(&[MAIL_CHANNEL]).await {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for new mail; sweeping only");
                    None
                }
            };
            let mut sweep = tokio::time::interval(sweep_every);
            sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let notified = async {
                    match listener.as_mut() {
                        Some(l) => Some(l.recv().await),
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = sweep.tick() => {
                        let started = chrono::Utc::now();
                        let failures = match self.deliver_all(&db).await {
                            Ok(_) => 0,
                            Err(e) => {
                                tracing::warn!(error = %e, "mail sweep failed; retrying next round");
                                1
                            }
                        };
                        kabinet_tenancy::metrics::record_worker_pass(
                            &db,
                            kabinet_tenancy::metrics::Worker::Mail,
                            started,
                            failures,
                        )
                        .await;
                        if listener.is_none() {
                            break;
                        }
                    }
                    note = notified => match note {
                        Some(Ok(note)) => {
                            let Ok(tenant) = note.payload().parse::<Uuid>() else { continue };
                            if let Err(e) = self.deliver_tenant(&db, TenantId(tenant)).await {
                                tracing::warn!(error = %e, "mail delivery failed; retrying next round");
                            }
                        }
                        _ => {
                            tracing::warn!("mail listener lost its connection; reconnecting");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            break;
                        }
                    },
                }
            }
        }
    }
}

/// Starts the sender worker. With no SMTP server configured it says so once and stops: mail
/// stays queued, to be delivered by a node that has one.
pub fn spawn_worker(
    db: Database,
    settings: MailSettings,
) -> Result<tokio::task::JoinHandle<()>, MailError> {
    let sender = Sender::new(&settings)?;
    Ok(tokio::spawn(async move {
        match sender {
            Some(sender) => {
                tracing::info!(from = %sender.from, "mail delivery is on");
                sender.run(db, settings.sweep_every).await;
            }
            None => tracing::warn!(
                "mail delivery is OFF: KABINET_SMTP_URL is not set. Mail (password reset links \
                 included) stays queued in mail_outbox until a node with an SMTP server sends it."
            ),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_levels_off() {
        assert_eq!(RetryPolicy::backoff(1), Duration::from_secs(30));
        assert_eq!(RetryPolicy::backoff(2), Duration::from_secs(120));
        assert_eq!(RetryPolicy::backoff(7), Duration::from_secs(14_400));
        assert_eq!(RetryPolicy::backoff(50), Duration::from_secs(14_400));
        assert_eq!(RetryPolicy::backoff(0), Duration::from_secs(30));
    }

    #[tokio::test]
    async fn settings_are_checked_without_connecting() {
        let ok = MailSettings {
            smtp_url: Some("smtps://user:secret@smtp.example.com:465".into()),
            from: "noreply@kabinet.example".into(),
            sweep_every: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        };
        assert!(ok.validate().is_ok());
        let off = MailSettings {
            smtp_url: None,
            ..ok.clone()
        };
        assert!(matches!(Sender::new(&off), Ok(None)));
        let bad_url = MailSettings {
            smtp_url: Some("ftp://nowhere".into()),
            ..ok.clone()
        };
        assert!(bad_url.validate().is_err());
        let bad_from = MailSettings {
            from: "nobody".into(),
            ..ok
        };
        assert!(bad_from.validate().is_err());
    }
}
