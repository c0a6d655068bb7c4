//! Password reset by e-mail, for subscribers (account number or e-mail) and staff (e-mail).
//!
//! [`request_reset`] answers the same whether or not the account exists or has an address: when
//! it does, one transaction writes a single-use token (its SHA-256; 30 minutes; a new request
//! replaces the previous link) and the message carrying the link into the mail outbox.
//! [`complete_reset`] sets the new password under the usual policy, spends the token and ends
//! every session of the account. Two-factor authentication stays on: a reset replaces the
//! password, never the second factor.

use chrono::{Duration, Utc};
use kabinet_core::{StaffId, SubscriberId, TenantId};
use kabinet_db::{Database, TenantTx, sqlx};
use kabinet_mail::{HtmlLetter, Mail};
use serde_json::json;
use uuid::Uuid;

pub use kabinet_mail::Language;

use crate::account_security::check_new_password;
use crate::audit::{AuditEntry, record};
use crate::sessions::{plausible, random_token, token_hash};
use crate::throttle::{self, Buckets, ThrottlePolicy};
use crate::{AccessError, Account, ClientInfo, hash_password, verify_password};

/// Who is asking: the portal's reset form or the console's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Subscriber,
    Staff,
}

impl Audience {
    fn as_str(self) -> &'static str {
        match self {
            Self::Subscriber => "subscriber",
            Self::Staff => "staff",
        }
    }
}

/// The site the request came to: the link points back there, the letter speaks for the ISP.
#[derive(Clone, Debug)]
pub struct ResetSite {
    /// `https://portal.isp.example` (scheme and host, no trailing slash).
    pub base_url: String,
    pub isp_name: String,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
    pub language: Language,
}

/// How long links live and how often they may be asked for.
#[derive(Clone, Copy, Debug)]
pub struct ResetPolicy {
    pub ttl: Duration,
    /// Requests (not failures) per identifier and per address.
    pub throttle: ThrottlePolicy,
}

impl Default for ResetPolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::minutes(30),
            throttle: ThrottlePolicy {
                window_secs: 60 * 60,
                account_failures: 3,
                address_failures: 20,
                lock_secs: 60 * 60,
            },
        }
    }
}

/// The account a reset is for, with where and how to write to it.
#[derive(sqlx::FromRow)]
struct Recipient {
    id: Uuid,
    name: String,
    email: String,
    /// The subscriber's account number (staff: their e-mail).
    login: String,
}

/// Sends a reset link if `login` names an account with an e-mail address; says nothing either
/// way. Throttled per identifier and per address, counting every request.
pub async fn request_reset(
    db: &Database,
    tenant: TenantId,
    audience: Audience,
    login: &str,
    site: &ResetSite,
    client: &ClientInfo,
    policy: ResetPolicy,
) -> Result<(), AccessError> {
    let login = login.trim();
    let buckets = Buckets {
        account: format!(
            "t:{tenant}:reset:{}:{}",
            audience.as_str(),
            login.to_lowercase()
        ),
        address: client.addr.as_ref().map(|a| format!("reset-addr:{a}")),
    };
    throttle::ensure_not_locked(db, &buckets).await?;
    throttle::record_failure(db, &buckets, policy.throttle).await?;
    if login.is_empty() || login.len() > 254 || login.chars().any(char::is_control) {
        return Ok(());
    }

    let mut tx = db.tenant_tx(tenant).await?;
    let found: Option<Recipient> = match audience {
        Audience::Subscriber => sqlx::query_as(
            "SELECT id, full_name AS name, email, account_number AS login FROM subscribers \
             WHERE tenant_id = $1 AND email IS NOT NULL AND (account_number = $2 OR email = lower($2)) \
             ORDER BY (account_number = $2) DESC LIMIT 1 FOR UPDATE",
        ),
        Audience::Staff => sqlx::query_as(
            "SELECT id, display_name AS name, email, email AS login FROM staff \
             WHERE tenant_id = $1 AND email = lower($2) AND active FOR UPDATE",
        ),
    }
    .bind(tenant.as_uuid())
    .bind(login)
    .fetch_optional(tx.conn())
    .await?;
    // Locked (FOR UPDATE): two requests at once replace each other's link in turn.
    let Some(recipient) = found else {
        return Ok(());
    };
    let account = match audience {
        Audience::Subscriber => Account::Subscriber(SubscriberId(recipient.id)),
        Audience::Staff => Account::Staff(StaffId(recipient.id)),
    };

    let token = random_token();
    let (subscriber, staff) = account.columns();
    sqlx::query(&format!(
        "DELETE FROM password_reset_tokens WHERE tenant_id = $1 AND {} = $2 AND used_at IS NULL",
        account.column()
    ))
    .bind(tenant.as_uuid())
    .bind(account.id())
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO password_reset_tokens \
           (tenant_id, id, token_hash, subscriber_id, staff_id, expires_at, requested_from) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(token_hash(&token))
    .bind(subscriber)
    .bind(staff)
    .bind(Utc::now() + policy.ttl)
    .bind(&client.addr)
    .execute(tx.conn())
    .await?;
    let link = format!("{}/reset-password?token={token}", site.base_url);
    kabinet_mail::enqueue(
        &mut tx,
        reset_mail(site, audience, &recipient, &link, policy.ttl),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What a completed reset did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResetDone {
    pub audience: Audience,
    pub sessions_ended: u64,
}

/// Sets a new password with a token from a reset letter. The token is spent only when the
/// password is accepted; every session of the account ends.
pub async fn complete_reset(
    tx: &mut TenantTx,
    token: &str,
    new_password: &str,
    client: &ClientInfo,
) -> Result<ResetDone, AccessError> {
    if !plausible(token) {
        return Err(AccessError::ResetTokenInvalid);
    }
    let tenant = tx.tenant();
    let row: Option<(Uuid, Option<Uuid>, Option<Uuid>)> = sqlx::query_as(
        "SELECT id, subscriber_id, staff_id FROM password_reset_tokens \
         WHERE tenant_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > now() \
         FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(token_hash(token))
    .fetch_optional(tx.conn())
    .await?;
    let Some((token_id, account)) =
        row.and_then(|(id, sub, staff)| Account::from_columns(sub, staff).map(|a| (id, a)))
    else {
        return Err(AccessError::ResetTokenInvalid);
    };

    let identity: Option<(Option<String>, Vec<Option<String>>)> = match account {
        Account::Subscriber(_) => sqlx::query_as(
            "SELECT password_hash, ARRAY[account_number, email, phone] FROM subscribers \
             WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        ),
        Account::Staff(_) => sqlx::query_as(
            "SELECT password_hash, ARRAY[email] FROM staff \
             WHERE tenant_id = $1 AND id = $2 AND active FOR UPDATE",
        ),
    }
    .bind(tenant.as_uuid())
    .bind(account.id())
    .fetch_optional(tx.conn())
    .await?;
    let (old_hash, identifiers) = identity.ok_or(AccessError::ResetTokenInvalid)?;
    let identifiers: Vec<&str> = identifiers.iter().flatten().map(String::as_str).collect();
    check_new_password(new_password, "", &identifiers)?;
    if verify_password(new_password, old_hash.as_deref()).await? {
        return Err(AccessError::Invalid {
            field: "new_password",
            reason: "must differ from the current password".into(),
        });
    }
    let new_hash = hash_password(new_password).await?;
    let table = match account {
        Account::Subscriber(_) => "subscribers",
        Account::Staff(_) => "staff",
    };
    sqlx::query(&format!(
        "UPDATE {table} SET password_hash = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_uuid())
    .bind(account.id())
    .bind(new_hash)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE password_reset_tokens SET used_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(token_id)
    .execute(tx.conn())
    .await?;
    let ended = sqlx::query(&format!(
        "UPDATE sessions SET revoked_at = now() \
         WHERE tenant_id = $1 AND {} = $2 AND revoked_at IS NULL",
        account.column()
    ))
    .bind(tenant.as_uuid())
    .bind(account.id())
    .execute(tx.conn())
    .await?
    .rows_affected();
    // A sign-in half-way through (password given, code awaited) used the old password.
    sqlx::query(&format!(
        "DELETE FROM login_challenges WHERE tenant_id = $1 AND {} = $2",
        account.column()
    ))
    .bind(tenant.as_uuid())
    .bind(account.id())
    .execute(tx.conn())
    .await?;
    let audience = match account {
        Account::Subscriber(_) => Audience::Subscriber,
        Account::Staff(id) => {
            record(
                tx,
                AuditEntry {
                    staff: Some(id),
                    action: "password.reset",
                    target: format!("staff:{id}"),
                    details: json!({ "sessions_ended": ended }),
                },
                client,
            )
            .await?;
            Audience::Staff
        }
    };
    Ok(ResetDone {
        audience,
        sessions_ended: ended,
    })
}

/// The letter, in the ISP's language, signed by the ISP.
fn reset_mail(
    site: &ResetSite,
    audience: Audience,
    to: &Recipient,
    link: &str,
    ttl: Duration,
) -> Mail {
    let minutes = ttl.num_minutes();
    let isp = &site.isp_name;
    let contacts: Vec<&str> = [site.support_phone.as_deref(), site.support_email.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let (subject, greeting, what, action, once, ignore, button, support) = match site.language {
        Language::Ru => (
            format!("Сброс пароля — {isp}"),
            format!("Здравствуйте, {}!", to.name),
            match audience {
                Audience::Subscriber => format!(
                    "Мы получили запрос на сброс пароля от личного кабинета {isp} (лицевой счёт {}).",
                    to.login
                ),
                Audience::Staff => format!(
                    "Мы получили запрос на сброс пароля от вашей учётной записи сотрудника {isp} ({}).",
                    to.login
                ),
            },
            format!("Чтобы задать новый пароль, откройте ссылку в течение {minutes} минут:"),
            "Ссылка работает один раз. После смены пароля все открытые сеансы завершатся.",
            "Если вы не запрашивали сброс, просто не открывайте ссылку: пароль останется прежним.",
            "Задать новый пароль",
            "Служба поддержки",
        ),
        Language::En => (
            format!("Reset your password — {isp}"),
            format!("Hello {},", to.name),
            match audience {
                Audience::Subscriber => format!(
                    "We received a request to reset the password of your {isp} account (account number {}).",
                    to.login
                ),
                Audience::Staff => format!(
                    "We received a request to reset the password of your {isp} staff account ({}).",
                    to.login
                ),
            },
            format!("To choose a new password, open this link within {minutes} minutes:"),
            "The link works once. Once the password is changed, every open session ends.",
            "If you did not ask for this, ignore this e-mail: your password stays as it is.",
            "Choose a new password",
            "Support",
        ),
    };
    let support_line = if contacts.is_empty() {
        String::new()
    } else {
        format!("{support}: {}", contacts.join(", "))
    };
    let text = format!(
        "{greeting}\n\n{what}\n{action}\n\n{link}\n\n{once}\n{ignore}\n\n— {isp}\n{support_line}\n"
    );
    let html = HtmlLetter::new(&greeting)
        .paragraph(&what)
        .paragraph(&action)
        .button(link, button)
        .link_text(link)
        .note(once)
        .note(ignore)
        .signature(&[isp, &support_line])
        .finish();
    Mail {
        to: to.email.clone(),
        from_name: Some(isp.clone()),
        reply_to: site.support_email.clone(),
        subject,
        text,
        html: Some(html),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(language: Language) -> ResetSite {
        ResetSite {
            base_url: "https://demo.example".into(),
            isp_name: "Демо <Телеком>".into(),
            support_email: Some("support@demo.example".into()),
            support_phone: None,
            language,
        }
    }

    fn recipient() -> Recipient {
        Recipient {
            id: Uuid::nil(),
            name: "Иван Петров".into(),
            email: "ivan@example.com".into(),
            login: "100001".into(),
        }
    }

    #[test]
    fn the_letter_speaks_the_isps_language_and_carries_the_link() {
        let link = "https://demo.example/reset-password?token=abc";
        let ru = reset_mail(
            &site(Language::Ru),
            Audience::Subscriber,
            &recipient(),
            link,
            Duration::minutes(30),
        );
        assert_eq!(ru.subject, "Сброс пароля — Демо <Телеком>");
        assert_eq!(ru.from_name.as_deref(), Some("Демо <Телеком>"));
        assert_eq!(ru.reply_to.as_deref(), Some("support@demo.example"));
        assert!(
            ru.text.contains(link) && ru.text.contains("30 минут"),
            "{}",
            ru.text
        );
        assert!(ru.text.contains("лицевой счёт 100001"), "{}", ru.text);
        let html = ru.html.expect("html");
        assert!(html.contains("Демо &lt;Телеком&gt;"), "{html}");
        assert!(!html.contains("<Телеком>"), "{html}");

        let en = reset_mail(
            &site(Language::En),
            Audience::Staff,
            &recipient(),
            link,
            Duration::minutes(30),
        );
        assert!(
            en.subject.starts_with("Reset your password"),
            "{}",
            en.subject
        );
        assert!(en.text.contains("staff account"), "{}", en.text);
    }
}
