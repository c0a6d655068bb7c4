//! Dunning: what happens to an ISP whose SaaS invoice is not paid.
//!
//! `current` → (a payment fails) `past_due`, a warning → after [`READ_ONLY_AFTER_DAYS`]
//! `read_only` (the gateway refuses every change, reads, sign-in and subscribers' payments still
//! work) → after [`SUSPEND_AFTER_DAYS`] `suspended` (the operator's suspension, with
//! [`DUNNING_SUSPENSION_REASON`]). A successful payment restores `current` at any step and lifts a
//! suspension dunning imposed (never one the operator imposed).
//!
//! Each step is told to the ISP's owners by e-mail through the tenant's outbox, once: the letter's
//! idempotency key names the episode (the failure's time) and the step. Steps are advanced by
//! [`advance`], run from every scheduler round: the billing row is taken `FOR UPDATE SKIP LOCKED`,
//! so several nodes never advance the same ISP twice, and all times come from the caller (the
//! scheduler's clock, a fixed one in tests).

use chrono::{DateTime, Duration, Utc};
use kabinet_access::audit::{AuditEntry, record};
use kabinet_access::{AccessError, ClientInfo};
use kabinet_core::TenantId;
use kabinet_db::{Database, DbError, TenantTx, sqlx};
use kabinet_mail::{HtmlLetter, Language, Mail, MailError};
use kabinet_tenancy::{TenancyError, TenantStatus, set_tenant_status};
use serde_json::json;

/// Days from a failed payment to read-only mode.
pub const READ_ONLY_AFTER_DAYS: i64 = 7;
/// Days from a failed payment to suspension.
pub const SUSPEND_AFTER_DAYS: i64 = 14;
/// The reason a dunning suspension gives (and how a payment knows the suspension is its own).
pub const DUNNING_SUSPENSION_REASON: &str = "The platform subscription is unpaid.";

/// An ISP's SaaS billing state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BillingState {
    Current,
    /// A payment failed: a warning, nothing is restricted yet.
    PastDue,
    /// Changes are refused; reads, sign-in and subscribers' payments work.
    ReadOnly,
    Suspended,
}

impl BillingState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::PastDue => "past_due",
            Self::ReadOnly => "read_only",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Current,
            Self::PastDue,
            Self::ReadOnly,
            Self::Suspended,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }

    /// Where an episode that started at `failed_at` stands at `now`.
    pub fn due(failed_at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        if now >= failed_at + Duration::days(SUSPEND_AFTER_DAYS) {
            Self::Suspended
        } else if now >= failed_at + Duration::days(READ_ONLY_AFTER_DAYS) {
            Self::ReadOnly
        } else {
            Self::PastDue
        }
    }

    fn next(self) -> Option<Self> {
        match self {
            Self::Current => Some(Self::PastDue),
            Self::PastDue => Some(Self::ReadOnly),
            Self::ReadOnly => Some(Self::Suspended),
            Self::Suspended => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DunningError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Tenancy(#[from] TenancyError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for DunningError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// An ISP's billing standing, for the console's banner and the operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub state: BillingState,
    /// When the unpaid episode began (`None` when current).
    pub payment_failed_at: Option<DateTime<Utc>>,
    /// When the next step falls due, if nothing is paid.
    pub next_step_at: Option<DateTime<Utc>>,
}

/// The standing of the tenant `tx` is scoped to.
pub async fn standing(tx: &mut TenantTx) -> Result<Standing, DunningError> {
    let row: Option<(String, Option<DateTime<Utc>>)> =
        sqlx::query_as("SELECT state, payment_failed_at FROM saas_billing WHERE tenant_id = $1")
            .bind(tx.tenant().as_uuid())
            .fetch_optional(tx.conn())
            .await?;
    let (state, failed_at) = match row {
        Some((state, failed_at)) => (
            BillingState::parse(&state).unwrap_or(BillingState::Current),
            failed_at,
        ),
        None => (BillingState::Current, None),
    };
    let next_step_at = failed_at.and_then(|at| match state {
        BillingState::PastDue => Some(at + Duration::days(READ_ONLY_AFTER_DAYS)),
        BillingState::ReadOnly => Some(at + Duration::days(SUSPEND_AFTER_DAYS)),
        _ => None,
    });
    Ok(Standing {
        state,
        payment_failed_at: failed_at,
        next_step_at,
    })
}

/// A SaaS payment of `tenant` failed at `at`: starts an episode (a warning letter) unless one is
/// running. Idempotent: a repeated failure changes nothing.
pub async fn payment_failed(
    db: &Database,
    tenant: TenantId,
    at: DateTime<Utc>,
) -> Result<BillingState, DunningError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let started: Option<DateTime<Utc>> = sqlx::query_scalar(
        "INSERT INTO saas_billing (tenant_id, state, payment_failed_at, state_since) \
         VALUES ($1, 'past_due', $2, $2) \
         ON CONFLICT (tenant_id) DO UPDATE SET state = 'past_due', payment_failed_at = $2, \
           state_since = $2, suspended_by_dunning = false, updated_at = now() \
         WHERE saas_billing.state = 'current' \
         RETURNING payment_failed_at",
    )
    .bind(tenant.as_uuid())
    .bind(at)
    .fetch_optional(tx.conn())
    .await?;
    let state = match started {
        Some(failed_at) => {
            step_taken(&mut tx, BillingState::PastDue, failed_at).await?;
            BillingState::PastDue
        }
        None => standing(&mut tx).await?.state,
    };
    tx.commit().await?;
    Ok(state)
}

/// A SaaS payment of `tenant` succeeded at `at`: back to `current`, lifting a suspension dunning
/// imposed. Idempotent.
pub async fn payment_succeeded(
    db: &Database,
    tenant: TenantId,
    at: DateTime<Utc>,
) -> Result<BillingState, DunningError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let row: Option<(String, Option<DateTime<Utc>>, bool)> = sqlx::query_as(
        "SELECT state, payment_failed_at, suspended_by_dunning FROM saas_billing \
         WHERE tenant_id = $1 FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    let Some((state, Some(failed_at), ours)) = row.filter(|r| r.0 != "current") else {
        tx.commit().await?;
        return Ok(BillingState::Current);
    };
    sqlx::query(
        "UPDATE saas_billing SET state = 'current', payment_failed_at = NULL, state_since = $2, \
           suspended_by_dunning = false, updated_at = now() \
         WHERE tenant_id = $1",
    )
    .bind(tenant.as_uuid())
    .bind(at)
    .execute(tx.conn())
    .await?;
    if ours {
        let suspended_for_us: bool = sqlx::query_scalar(
            "SELECT status = 'suspended' AND suspended_reason = $2 FROM tenants WHERE id = $1",
        )
        .bind(tenant.as_uuid())
        .bind(DUNNING_SUSPENSION_REASON)
        .fetch_one(tx.conn())
        .await?;
        if suspended_for_us {
            set_tenant_status(&mut tx, TenantStatus::Active, None).await?;
        }
    }
    record(
        &mut tx,
        AuditEntry {
            staff: None,
            action: "saas_billing.restore",
            target: format!("tenant:{tenant}"),
            details: json!({ "before": { "state": state }, "after": { "state": "current" } }),
        },
        &ClientInfo::default(),
    )
    .await?;
    notify(&mut tx, Letter::Restored, failed_at).await?;
    tx.commit().await?;
    Ok(BillingState::Current)
}

/// Takes every step of `tenant`'s episode that is due at `now` (each with its letter). Does
/// nothing when the ISP is current, or when another node holds its row right now.
pub async fn advance(
    db: &Database,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<Option<BillingState>, DunningError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let row: Option<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT state, payment_failed_at FROM saas_billing \
         WHERE tenant_id = $1 AND state IN ('past_due', 'read_only') \
         FOR UPDATE SKIP LOCKED",
    )
    .bind(tenant.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    let Some((state, failed_at)) = row else {
        tx.commit().await?;
        return Ok(None);
    };
    let mut state = BillingState::parse(&state).unwrap_or(BillingState::PastDue);
    let due = BillingState::due(failed_at, now);
    if due <= state {
        tx.commit().await?;
        return Ok(None);
    }
    while state < due {
        let Some(next) = state.next() else { break };
        step_taken(&mut tx, next, failed_at).await?;
        state = next;
    }
    tx.commit().await?;
    Ok(Some(state))
}

/// Records `step` of the episode begun at `failed_at` in `tx` and queues its letter.
async fn step_taken(
    tx: &mut TenantTx,
    step: BillingState,
    failed_at: DateTime<Utc>,
) -> Result<(), DunningError> {
    let tenant = tx.tenant();
    let mut suspended_by_dunning = false;
    if step == BillingState::Suspended {
        // The operator's suspension stays the operator's: only an active ISP is ours to suspend.
        let active: bool =
            sqlx::query_scalar("SELECT status = 'active' FROM tenants WHERE id = $1 FOR UPDATE")
                .bind(tenant.as_uuid())
                .fetch_one(tx.conn())
                .await?;
        if active {
            set_tenant_status(tx, TenantStatus::Suspended, Some(DUNNING_SUSPENSION_REASON)).await?;
            suspended_by_dunning = true;
        }
    }
    sqlx::query(
        "UPDATE saas_billing SET state = $2, state_since = now(), \
           suspended_by_dunning = suspended_by_dunning OR $3, updated_at = now() \
         WHERE tenant_id = $1",
    )
    .bind(tenant.as_uuid())
    .bind(step.as_str())
    .bind(suspended_by_dunning)
    .execute(tx.conn())
    .await?;
    record(
        tx,
        AuditEntry {
            staff: None,
            action: "saas_billing.step",
            target: format!("tenant:{tenant}"),
            details: json!({ "after": { "state": step.as_str() }, "payment_failed_at": failed_at }),
        },
        &ClientInfo::default(),
    )
    .await?;
    let letter = match step {
        BillingState::Current => Letter::Restored,
        BillingState::PastDue => Letter::PastDue,
        BillingState::ReadOnly => Letter::ReadOnly,
        BillingState::Suspended => Letter::Suspended,
    };
    notify(tx, letter, failed_at).await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Letter {
    PastDue,
    ReadOnly,
    Suspended,
    Restored,
}

impl Letter {
    fn key(self) -> &'static str {
        match self {
            Self::PastDue => "past_due",
            Self::ReadOnly => "read_only",
            Self::Suspended => "suspended",
            Self::Restored => "restored",
        }
    }
}

/// Queues `letter` to every active owner of the ISP, once per episode and step.
async fn notify(
    tx: &mut TenantTx,
    letter: Letter,
    failed_at: DateTime<Utc>,
) -> Result<(), DunningError> {
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
            "saas-dunning:{}:{}:{staff}",
            failed_at.timestamp_micros(),
            letter.key()
        );
        kabinet_mail::enqueue_once(
            tx,
            &key,
            letter_mail(letter, language, &isp, &email, failed_at),
        )
        .await?;
    }
    Ok(())
}

fn letter_mail(
    letter: Letter,
    language: Language,
    isp: &str,
    to: &str,
    failed_at: DateTime<Utc>,
) -> Mail {
    let read_only_on = (failed_at + Duration::days(READ_ONLY_AFTER_DAYS)).format("%d.%m.%Y");
    let suspended_on = (failed_at + Duration::days(SUSPEND_AFTER_DAYS)).format("%d.%m.%Y");
    let (subject, body): (String, Vec<String>) = match (language, letter) {
        (Language::Ru, Letter::PastDue) => (
            format!("Не прошла оплата Kabinet — {isp}"),
            vec![
                "Нам не удалось списать оплату подписки Kabinet.".into(),
                format!("Проверьте способ оплаты. Если подписка не будет оплачена, {read_only_on} консоль перейдёт в режим только для чтения, а {suspended_on} портал будет приостановлен."),
            ],
        ),
        (Language::Ru, Letter::ReadOnly) => (
            format!("Консоль {isp} в режиме только для чтения"),
            vec![
                "Подписка Kabinet не оплачена, поэтому изменения в консоли и на портале отключены. Просмотр, вход и оплаты абонентов работают.".into(),
                format!("Если подписка не будет оплачена, {suspended_on} портал будет приостановлен."),
            ],
        ),
        (Language::Ru, Letter::Suspended) => (
            format!("Портал {isp} приостановлен"),
            vec![
                "Подписка Kabinet не оплачена, и портал приостановлен. Данные сохранены.".into(),
                "После оплаты всё заработает сразу.".into(),
            ],
        ),
        (Language::Ru, Letter::Restored) => (
            format!("Оплата получена — {isp} снова работает полностью"),
            vec!["Спасибо! Подписка Kabinet оплачена, ограничения сняты.".into()],
        ),
        (Language::En, Letter::PastDue) => (
            format!("Your Kabinet payment failed — {isp}"),
            vec![
                "We could not collect the payment for your Kabinet subscription.".into(),
                format!("Please check your payment method. If it stays unpaid, the console becomes read-only on {read_only_on} and the portal is suspended on {suspended_on}."),
            ],
        ),
        (Language::En, Letter::ReadOnly) => (
            format!("{isp}'s console is now read-only"),
            vec![
                "Your Kabinet subscription is unpaid, so changes in the console and the portal are switched off. Reading, signing in and subscribers' payments still work.".into(),
                format!("If it stays unpaid, the portal is suspended on {suspended_on}."),
            ],
        ),
        (Language::En, Letter::Suspended) => (
            format!("{isp}'s portal is suspended"),
            vec![
                "Your Kabinet subscription is unpaid, and the portal is suspended. Your data is kept.".into(),
                "Everything works again as soon as it is paid.".into(),
            ],
        ),
        (Language::En, Letter::Restored) => (
            format!("Payment received — {isp} works fully again"),
            vec!["Thank you! Your Kabinet subscription is paid and the restrictions are lifted.".into()],
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn steps_fall_due_after_seven_and_fourteen_days() {
        let failed = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
        let at = |days: i64, secs: i64| failed + Duration::days(days) + Duration::seconds(secs);
        assert_eq!(BillingState::due(failed, at(0, 0)), BillingState::PastDue);
        assert_eq!(BillingState::due(failed, at(7, -1)), BillingState::PastDue);
        assert_eq!(BillingState::due(failed, at(7, 0)), BillingState::ReadOnly);
        assert_eq!(
            BillingState::due(failed, at(14, -1)),
            BillingState::ReadOnly
        );
        assert_eq!(
            BillingState::due(failed, at(14, 0)),
            BillingState::Suspended
        );
        assert_eq!(
            BillingState::due(failed, at(400, 0)),
            BillingState::Suspended
        );
    }

    #[test]
    fn every_letter_names_the_isp_in_both_languages() {
        let failed = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
        for language in [Language::Ru, Language::En] {
            for letter in [
                Letter::PastDue,
                Letter::ReadOnly,
                Letter::Suspended,
                Letter::Restored,
            ] {
                let mail = letter_mail(letter, language, "Акме", "o@acme.example", failed);
                assert!(mail.subject.contains("Акме"), "{letter:?}");
                assert!(mail.text.contains("Kabinet"));
            }
        }
        let warning = letter_mail(
            Letter::PastDue,
            Language::Ru,
            "Акме",
            "o@acme.example",
            failed,
        );
        assert!(warning.text.contains("08.03.2026") && warning.text.contains("15.03.2026"));
    }
}
