//! Custom domains checked again in each ISP's scheduler round: verified ones daily (a removed
//! TXT record warns the owners, and after a grace period the domain stops being served), young
//! unverified ones hourly (so the ISP need not come back to press "check").
//!
//! Multi-node safe: a round claims due domains by marking them checked (`FOR UPDATE SKIP
//! LOCKED`), looks them up outside any transaction, then records each outcome with its letters in
//! one transaction; letters are keyed so a rerun never sends one twice.

use chrono::{DateTime, Duration, Utc};
use kabinet_core::TenantId;
use kabinet_db::{Database, DbError, TenantTx, sqlx};
use kabinet_mail::{Language, Mail, MailError};
use kabinet_tenancy::domains::{
    self, CustomDomain, DomainError, DomainVerifier, PROOF_GRACE_DAYS, Recheck,
};

#[derive(Debug, thiserror::Error)]
pub enum DomainCheckError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for DomainCheckError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// What one round did for one ISP.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainCheckReport {
    pub checked: usize,
    pub verified: usize,
    /// Verified domains whose proof went missing in this round (owners warned).
    pub newly_failing: usize,
    /// Domains no longer served after their grace period (owners told).
    pub unverified: usize,
}

/// Checks the ISP's due custom domains (see the module doc).
pub async fn recheck_domains(
    db: &Database,
    verifier: &DomainVerifier,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<DomainCheckReport, DomainCheckError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let due = domains::claim_due_checks(&mut tx, now).await?;
    tx.commit().await?;
    let mut report = DomainCheckReport::default();
    for domain in due {
        // DNS is asked outside any transaction: a slow resolver holds no row lock.
        let outcome = verifier.check(&domain).await;
        let mut tx = db.tenant_tx(tenant).await?;
        let change = domains::record_recheck(&mut tx, &domain.name(), &outcome, now).await?;
        report.checked += 1;
        match &change {
            Recheck::Verified { newly } => report.verified += usize::from(*newly),
            Recheck::Failing { since, first: true } => {
                report.newly_failing += 1;
                tell_owners(&mut tx, &domain, Letter::Failing, *since).await?;
            }
            Recheck::Unverified { since } => {
                report.unverified += 1;
                tell_owners(&mut tx, &domain, Letter::Unverified, *since).await?;
            }
            Recheck::Failing { first: false, .. } | Recheck::StillPending => {}
        }
        tx.commit().await?;
        if !matches!(
            change,
            Recheck::StillPending | Recheck::Verified { newly: false }
        ) {
            tracing::info!(tenant = %tenant, host = %domain.host, ?change, "custom domain re-checked");
        }
    }
    Ok(report)
}

#[derive(Clone, Copy, Debug)]
enum Letter {
    Failing,
    Unverified,
}

/// Queues the letter to every active owner, once per domain, failure episode and letter.
async fn tell_owners(
    tx: &mut TenantTx,
    domain: &CustomDomain,
    letter: Letter,
    since: DateTime<Utc>,
) -> Result<(), DomainCheckError> {
    let (isp, locale): (String, String) =
        sqlx::query_as("SELECT display_name, default_locale FROM tenants WHERE id = $1")
            .bind(tx.tenant().as_uuid())
            .fetch_one(tx.conn())
            .await?;
    let owners: Vec<(uuid::Uuid, String)> = sqlx::query_as(
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
            "domain-recheck:{}:{}:{letter:?}:{staff}",
            domain.host,
            since.timestamp_micros()
        );
        let mail = letter_mail(letter, language, &isp, domain, &email, since);
        kabinet_mail::enqueue_once(tx, &key, mail).await?;
    }
    Ok(())
}

fn letter_mail(
    letter: Letter,
    language: Language,
    isp: &str,
    domain: &CustomDomain,
    to: &str,
    since: DateTime<Utc>,
) -> Mail {
    let host = &domain.unicode;
    let record = &domain.challenge.name;
    let value = &domain.challenge.value;
    let until = (since + Duration::days(PROOF_GRACE_DAYS)).format("%d.%m.%Y");
    let (subject, text) = match (language, letter) {
        (Language::Ru, Letter::Failing) => (
            format!("{isp}: домен {host} больше не подтверждается"),
            format!(
                "При ежедневной проверке мы не нашли TXT-запись {record} со значением {value}.\n\n\
                 Портал на {host} пока работает. Если запись не вернётся до {until}, домен перестанет обслуживаться.\n\n\
                 Верните запись у своего DNS-провайдера и нажмите «Проверить» в консоли: Настройки → Домены."
            ),
        ),
        (Language::Ru, Letter::Unverified) => (
            format!("{isp}: домен {host} отключён"),
            format!(
                "TXT-запись {record} не находится с {}, поэтому портал на {host} больше не обслуживается. \
                 Адрес провайдера на платформе работает как прежде.\n\n\
                 Чтобы вернуть домен, создайте запись со значением {value} и нажмите «Проверить» в консоли: Настройки → Домены.",
                since.format("%d.%m.%Y")
            ),
        ),
        (Language::En, Letter::Failing) => (
            format!("{isp}: {host} can no longer be verified"),
            format!(
                "Our daily check did not find the TXT record {record} with the value {value}.\n\n\
                 The portal on {host} still works. If the record is not back by {until}, the domain stops being served.\n\n\
                 Restore the record at your DNS provider and press \"Check\" in the console: Settings → Domains."
            ),
        ),
        (Language::En, Letter::Unverified) => (
            format!("{isp}: {host} is switched off"),
            format!(
                "The TXT record {record} has been missing since {}, so the portal is no longer served on {host}. \
                 Your address on the platform works as before.\n\n\
                 To bring the domain back, create the record with the value {value} and press \"Check\" in the console: Settings → Domains.",
                since.format("%d.%m.%Y")
            ),
        ),
    };
    Mail {
        to: to.to_owned(),
        from_name: Some("Kabinet".to_owned()),
        reply_to: None,
        subject,
        text,
        html: None,
    }
}
