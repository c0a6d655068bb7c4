//! The owner of a self-serve signup: their staff account waits, inactive, until they follow the
//! link in the confirmation letter; following it activates the account and signs them in.
//!
//! [`invite_owner`] runs in the transaction that finishes the new tenant, so the owner, the
//! token (its SHA-256; 48 hours) and the letter in the mail outbox land together.
//! [`confirm_owner`] spends the token once. Signups are throttled per client address.

use chrono::{Duration, Utc};
use kabinet_core::StaffId;
use kabinet_db::{Database, TenantTx, sqlx};
use kabinet_mail::{HtmlLetter, Language, Mail};
use serde_json::json;
use uuid::Uuid;

use crate::account_security::check_new_password;
use crate::audit::{AuditEntry, record};
use crate::login::open_staff_session;
use crate::sessions::{NewSession, SessionPolicy, plausible, random_token, token_hash};
use crate::throttle::{self, Buckets, ThrottlePolicy};
use crate::{AccessError, ClientInfo, Role, hash_password};

/// How long a confirmation link lives.
pub const CONFIRMATION_TTL_HOURS: i64 = 48;

/// Signups per client address: a few per hour, then a pause.
pub const SIGNUP_THROTTLE: ThrottlePolicy = ThrottlePolicy {
    window_secs: 3600,
    account_failures: 5,
    address_failures: 5,
    lock_secs: 3600,
};

/// Counts a signup attempt from `client` and refuses it when the address has made too many.
pub async fn throttle_signup(db: &Database, client: &ClientInfo) -> Result<(), AccessError> {
    let Some(addr) = &client.addr else {
        return Ok(());
    };
    let buckets = Buckets {
        account: format!("signup-addr:{addr}"),
        address: None,
    };
    throttle::ensure_not_locked(db, &buckets).await?;
    throttle::record_failure(db, &buckets, SIGNUP_THROTTLE).await
}

/// The new owner as the signup form gave them.
#[derive(Clone, Debug)]
pub struct NewOwner<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub language: Language,
    pub isp_name: &'a str,
    /// Where the link points: the ISP's own host, `http://acme.kabinet.example` (no slash).
    pub base_url: &'a str,
}

/// Checks what the owner chose before anything is created.
pub fn check_owner(owner: &NewOwner<'_>) -> Result<(), AccessError> {
    let email = owner.email.trim();
    let invalid = |field: &'static str, reason: &str| AccessError::Invalid {
        field,
        reason: reason.to_owned(),
    };
    if !kabinet_core::is_plausible_email(email) {
        return Err(invalid("email", "must be an e-mail address"));
    }
    let name = owner.display_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("owner_name", "must be 1 to 200 characters"));
    }
    check_new_password(owner.password, "", &[email]).map_err(|e| match e {
        AccessError::Invalid { reason, .. } => AccessError::Invalid {
            field: "password",
            reason,
        },
        other => other,
    })
}

/// Creates the owner (inactive, role `owner`), the confirmation token and the letter, all in
/// `tx` — the transaction that finishes the tenant.
pub async fn invite_owner(
    tx: &mut TenantTx,
    owner: &NewOwner<'_>,
    client: &ClientInfo,
) -> Result<StaffId, AccessError> {
    check_owner(owner)?;
    let tenant = tx.tenant();
    let id = Uuid::now_v7();
    let hash = hash_password(owner.password).await?;
    sqlx::query(
        "INSERT INTO staff (tenant_id, id, email, display_name, password_hash, active) \
         VALUES ($1, $2, lower($3), $4, $5, false)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(owner.email.trim())
    .bind(owner.display_name.trim())
    .bind(hash)
    .execute(tx.conn())
    .await?;
    sqlx::query("INSERT INTO staff_roles (tenant_id, staff_id, role) VALUES ($1, $2, $3)")
        .bind(tenant.as_uuid())
        .bind(id)
        .bind(Role::Owner.as_str())
        .execute(tx.conn())
        .await?;
    let token = random_token();
    sqlx::query(
        "INSERT INTO signup_confirmations (tenant_id, staff_id, token_hash, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(token_hash(&token))
    .bind(Utc::now() + Duration::hours(CONFIRMATION_TTL_HOURS))
    .execute(tx.conn())
    .await?;
    let link = format!("{}/console/confirm?token={token}", owner.base_url);
    kabinet_mail::enqueue(tx, confirmation_mail(owner, &link)).await?;
    record(
        tx,
        AuditEntry {
            staff: Some(StaffId(id)),
            action: "signup.start",
            target: format!("staff:{id}"),
            details: json!({ "email": owner.email.trim().to_lowercase() }),
        },
        client,
    )
    .await?;
    Ok(StaffId(id))
}

/// Spends a confirmation token: activates the owner and signs them in. An unknown, expired or
/// used token is [`AccessError::SignupLinkInvalid`].
pub async fn confirm_owner(
    db: &Database,
    tenant: kabinet_core::TenantId,
    token: &str,
    policy: SessionPolicy,
    client: &ClientInfo,
) -> Result<NewSession, AccessError> {
    if !plausible(token) {
        return Err(AccessError::SignupLinkInvalid);
    }
    let mut tx = db.tenant_tx(tenant).await?;
    let staff: Option<Uuid> = sqlx::query_scalar(
        "UPDATE signup_confirmations SET confirmed_at = now() \
         WHERE tenant_id = $1 AND token_hash = $2 AND confirmed_at IS NULL AND expires_at > now() \
         RETURNING staff_id",
    )
    .bind(tenant.as_uuid())
    .bind(token_hash(token))
    .fetch_optional(tx.conn())
    .await?;
    let Some(staff) = staff else {
        return Err(AccessError::SignupLinkInvalid);
    };
    sqlx::query(
        "UPDATE staff SET active = true, updated_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(staff)
    .execute(tx.conn())
    .await?;
    record(
        &mut tx,
        AuditEntry {
            staff: Some(StaffId(staff)),
            action: "signup.confirm",
            target: format!("staff:{staff}"),
            details: json!({}),
        },
        client,
    )
    .await?;
    let session = open_staff_session(&mut tx, StaffId(staff), policy, client).await?;
    tx.commit().await?;
    Ok(session)
}

fn confirmation_mail(owner: &NewOwner<'_>, link: &str) -> Mail {
    let isp = owner.isp_name;
    let (subject, greeting, what, action, expiry, ignore, button) = match owner.language {
        Language::Ru => (
            format!("Подтвердите адрес — {isp} в Kabinet"),
            format!("Здравствуйте, {}!", owner.display_name.trim()),
            format!("Вы зарегистрировали провайдера «{isp}» в Kabinet."),
            "Чтобы открыть консоль, подтвердите адрес электронной почты:".to_owned(),
            format!("Ссылка действует {CONFIRMATION_TTL_HOURS} часов и работает один раз."),
            "Если это были не вы, просто не открывайте ссылку.",
            "Подтвердить и войти",
        ),
        Language::En => (
            format!("Confirm your e-mail — {isp} on Kabinet"),
            format!("Hello {},", owner.display_name.trim()),
            format!("You signed {isp} up for Kabinet."),
            "To open your console, confirm your e-mail address:".to_owned(),
            format!("The link works once, for {CONFIRMATION_TTL_HOURS} hours."),
            "If this wasn't you, ignore this e-mail.",
            "Confirm and sign in",
        ),
    };
    let text =
        format!("{greeting}\n\n{what}\n{action}\n\n{link}\n\n{expiry}\n{ignore}\n\n— Kabinet\n");
    let html = HtmlLetter::new(&greeting)
        .paragraph(&what)
        .paragraph(&action)
        .button(link, button)
        .link_text(link)
        .note(&expiry)
        .note(ignore)
        .signature(&["Kabinet"])
        .finish();
    Mail {
        to: owner.email.trim().to_lowercase(),
        from_name: Some("Kabinet".into()),
        reply_to: None,
        subject,
        text,
        html: Some(html),
    }
}
