//! Signing in: throttle check, password check (constant work whether or not the account
//! exists), session issue. Every failure looks the same from outside.

use kabinet_core::{StaffId, SubscriberId, TenantId};
use kabinet_db::{Database, sqlx};
use uuid::Uuid;

use crate::sessions::{NewSession, Principal, SessionOwner, SessionPolicy};
use crate::throttle::{self, Buckets, ThrottlePolicy};
use crate::{AccessError, ClientInfo, Role, password::verify_password};

/// Sign-in names never contain control characters; such input is refused before any lookup
/// (PostgreSQL cannot even compare text containing NUL).
fn plausible_login(login: &str) -> Result<(), AccessError> {
    if login.is_empty() || login.len() > 254 || login.chars().any(char::is_control) {
        Err(AccessError::InvalidCredentials)
    } else {
        Ok(())
    }
}

fn buckets(scope: &str, login: &str, client: &ClientInfo) -> Buckets {
    Buckets {
        account: format!("{scope}:account:{}", login.trim().to_lowercase()),
        address: client.addr.as_ref().map(|a| format!("addr:{a}")),
    }
}

/// Normalises a phone number typed by a person: `8 (912) 345-67-89` → `+79123456789`.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let plausible_chars = raw
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()".contains(c));
    if !plausible_chars || digits.len() < 7 || digits.len() > 15 {
        return None;
    }
    // A Russian trunk prefix: 8XXXXXXXXXX is +7XXXXXXXXXX.
    if !raw.trim_start().starts_with('+') && digits.len() == 11 && digits.starts_with('8') {
        return Some(format!("+7{}", &digits[1..]));
    }
    Some(format!("+{digits}"))
}

/// An account found for a sign-in name: enough to check the password and open a session.
#[derive(sqlx::FromRow)]
struct Candidate {
    id: Uuid,
    display_name: String,
    password_hash: Option<String>,
    #[sqlx(default)]
    roles: Vec<String>,
}

/// One sign-in attempt, from the throttle check to the recorded outcome.
struct Attempt<'a> {
    db: &'a Database,
    buckets: Buckets,
    throttle: ThrottlePolicy,
}

impl<'a> Attempt<'a> {
    async fn start(
        db: &'a Database,
        scope: &str,
        login: &str,
        client: &ClientInfo,
        throttle: ThrottlePolicy,
    ) -> Result<Self, AccessError> {
        plausible_login(login)?;
        let buckets = buckets(scope, login, client);
        throttle::ensure_not_locked(db, &buckets).await?;
        Ok(Self {
            db,
            buckets,
            throttle,
        })
    }

    /// Checks the password against the account found — or against a dummy hash when none was,
    /// so both failures take the same time — and counts a failure.
    async fn verify(
        &self,
        found: Option<Candidate>,
        password: &str,
    ) -> Result<Candidate, AccessError> {
        let stored = found.as_ref().and_then(|c| c.password_hash.as_deref());
        if verify_password(password, stored).await?
            && let Some(candidate) = found
        {
            return Ok(candidate);
        }
        throttle::record_failure(self.db, &self.buckets, self.throttle).await?;
        Err(AccessError::InvalidCredentials)
    }

    async fn succeeded(self) -> Result<(), AccessError> {
        throttle::record_success(self.db, &self.buckets).await
    }
}

/// Signs a subscriber in by account number, e-mail or phone.
pub async fn login_subscriber(
    db: &Database,
    tenant: TenantId,
    login: &str,
    password: &str,
    client: &ClientInfo,
    session_policy: SessionPolicy,
    throttle_policy: ThrottlePolicy,
) -> Result<NewSession, AccessError> {
    let attempt = Attempt::start(
        db,
        &format!("t:{tenant}:subscriber"),
        login,
        client,
        throttle_policy,
    )
    .await?;
    let login = login.trim();
    let mut tx = db.tenant_tx(tenant).await?;
    let found: Option<Candidate> = sqlx::query_as(
        "SELECT id, full_name AS display_name, password_hash FROM subscribers \
         WHERE tenant_id = $1 AND (account_number = $2 OR email = lower($2) OR phone = $3) \
         ORDER BY (account_number = $2) DESC LIMIT 1",
    )
    .bind(tenant.as_uuid())
    .bind(login)
    .bind(normalize_phone(login))
    .fetch_optional(tx.conn())
    .await?;
    let account = attempt.verify(found, password).await?;
    let id = SubscriberId(account.id);
    let (token, csrf_token, session_id, expires_at) = crate::sessions::issue_tenant_session(
        &mut tx,
        SessionOwner::Subscriber(id),
        session_policy,
        client,
    )
    .await?;
    tx.commit().await?;
    attempt.succeeded().await?;
    Ok(NewSession {
        token,
        expires_at,
        principal: Principal::Subscriber {
            tenant,
            id,
            display_name: account.display_name,
            session_id,
            csrf_token,
        },
    })
}

/// Signs an active staff member in by e-mail.
pub async fn login_staff(
    db: &Database,
    tenant: TenantId,
    email: &str,
    password: &str,
    client: &ClientInfo,
    session_policy: SessionPolicy,
    throttle_policy: ThrottlePolicy,
) -> Result<NewSession, AccessError> {
    let attempt = Attempt::start(
        db,
        &format!("t:{tenant}:staff"),
        email,
        client,
        throttle_policy,
    )
    .await?;
    let mut tx = db.tenant_tx(tenant).await?;
    let found: Option<Candidate> = sqlx::query_as(
        "SELECT s.id, s.display_name, s.password_hash, \
                COALESCE((SELECT array_agg(r.role ORDER BY r.role) FROM staff_roles r \
                          WHERE r.tenant_id = s.tenant_id AND r.staff_id = s.id), '{}') AS roles \
         FROM staff s WHERE s.tenant_id = $1 AND s.email = lower($2) AND s.active",
    )
    .bind(tenant.as_uuid())
    .bind(email.trim())
    .fetch_optional(tx.conn())
    .await?;
    let account = attempt.verify(found, password).await?;
    let id = StaffId(account.id);
    let (token, csrf_token, session_id, expires_at) = crate::sessions::issue_tenant_session(
        &mut tx,
        SessionOwner::Staff(id),
        session_policy,
        client,
    )
    .await?;
    tx.commit().await?;
    attempt.succeeded().await?;
    Ok(NewSession {
        token,
        expires_at,
        principal: Principal::Staff {
            tenant,
            id,
            display_name: account.display_name,
            roles: account
                .roles
                .iter()
                .filter_map(|r| Role::parse(r))
                .collect(),
            session_id,
            csrf_token,
        },
    })
}

/// Signs a platform operator in (platform host only).
pub async fn login_operator(
    db: &Database,
    email: &str,
    password: &str,
    client: &ClientInfo,
    session_policy: SessionPolicy,
    throttle_policy: ThrottlePolicy,
) -> Result<NewSession, AccessError> {
    let attempt = Attempt::start(db, "platform:operator", email, client, throttle_policy).await?;
    let mut tx = db.platform_tx().await?;
    let found: Option<Candidate> = sqlx::query_as(
        "SELECT id, display_name, password_hash FROM operators WHERE email = lower($1) AND active",
    )
    .bind(email.trim())
    .fetch_optional(tx.conn())
    .await?;
    let account = attempt.verify(found, password).await?;
    let (token, csrf_token, session_id, expires_at) =
        crate::sessions::issue_operator_session(&mut tx, account.id, session_policy).await?;
    tx.commit().await?;
    attempt.succeeded().await?;
    Ok(NewSession {
        token,
        expires_at,
        principal: Principal::Operator {
            id: account.id,
            display_name: account.display_name,
            session_id,
            csrf_token,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::normalize_phone;

    #[test]
    fn phones_are_normalised_to_e164() {
        assert_eq!(
            normalize_phone("8 (912) 345-67-89").as_deref(),
            Some("+79123456789")
        );
        assert_eq!(
            normalize_phone("+7 912 345 67 89").as_deref(),
            Some("+79123456789")
        );
        assert_eq!(normalize_phone("100001"), None);
        assert_eq!(normalize_phone("user@example.com"), None);
    }
}
