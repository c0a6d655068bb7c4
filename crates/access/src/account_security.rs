//! A principal's own security: changing the password, seeing and ending their sessions.

use chrono::{DateTime, Utc};
use kabinet_core::SubscriberId;
use kabinet_db::{TenantTx, sqlx};
use uuid::Uuid;

use crate::{AccessError, hash_password, verify_password};

/// Passwords are 10 to 1024 characters: long enough to resist guessing (with the throttle),
/// short enough that hashing stays cheap. No composition rules (NIST SP 800-63B).
pub fn check_new_password(
    new: &str,
    current: &str,
    identifiers: &[&str],
) -> Result<(), AccessError> {
    let invalid = |reason: &str| AccessError::Invalid {
        field: "new_password",
        reason: reason.to_owned(),
    };
    let length = new.chars().count();
    if length < 10 {
        return Err(invalid("must be at least 10 characters"));
    }
    if length > 1024 {
        return Err(invalid("must be at most 1024 characters"));
    }
    if new == current {
        return Err(invalid("must differ from the current password"));
    }
    let lower = new.to_lowercase();
    if identifiers
        .iter()
        .any(|id| !id.is_empty() && lower == id.to_lowercase())
    {
        return Err(invalid("must not be your account number, e-mail or phone"));
    }
    Ok(())
}

/// Changes a subscriber's password after checking the current one, and ends every other
/// session (a stolen session must not outlive the password change). Returns how many ended.
pub async fn change_subscriber_password(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    current_session: Uuid,
    current: &str,
    new: &str,
) -> Result<u64, AccessError> {
    let tenant = tx.tenant();
    let (hash, account, email, phone): (Option<String>, String, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT password_hash, account_number, email, phone FROM subscribers WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AccessError::Unauthenticated)?;
    if !verify_password(current, hash.as_deref()).await? {
        return Err(AccessError::Invalid {
            field: "current_password",
            reason: "is not correct".into(),
        });
    }
    check_new_password(
        new,
        current,
        &[
            &account,
            email.as_deref().unwrap_or(""),
            phone.as_deref().unwrap_or(""),
        ],
    )?;
    let new_hash = hash_password(new).await?;
    sqlx::query("UPDATE subscribers SET password_hash = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_uuid())
        .bind(subscriber.as_uuid())
        .bind(new_hash)
        .execute(tx.conn())
        .await?;
    let ended = sqlx::query(
        "UPDATE sessions SET revoked_at = now() \
         WHERE tenant_id = $1 AND subscriber_id = $2 AND id <> $3 AND revoked_at IS NULL",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(current_session)
    .execute(tx.conn())
    .await?;
    Ok(ended.rows_affected())
}

/// A live session, as its owner sees it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
}

/// The subscriber's live sessions, most recently used first.
pub async fn subscriber_sessions(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<Vec<SessionView>, AccessError> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as::<_, SessionView>(
        "SELECT id, created_at, last_seen_at, client_addr, user_agent FROM sessions \
         WHERE tenant_id = $1 AND subscriber_id = $2 AND revoked_at IS NULL AND expires_at > now() \
         ORDER BY last_seen_at DESC LIMIT 100",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_all(tx.conn())
    .await?)
}

/// Ends one of the subscriber's own sessions; another's id is "not found".
pub async fn end_subscriber_session(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    session: Uuid,
) -> Result<bool, AccessError> {
    let tenant = tx.tenant();
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = now() \
         WHERE tenant_id = $1 AND subscriber_id = $2 AND id = $3 AND revoked_at IS NULL",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(session)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::check_new_password;

    #[test]
    fn new_passwords_are_long_new_and_not_an_identifier() {
        assert!(check_new_password("correct horse battery", "old password", &["100001"]).is_ok());
        assert!(check_new_password("short", "old", &[]).is_err());
        assert!(check_new_password("same-as-before", "same-as-before", &[]).is_err());
        assert!(
            check_new_password("Ivan@Example.com", "old password", &["ivan@example.com"]).is_err()
        );
        assert!(check_new_password(&"x".repeat(1025), "old", &[]).is_err());
    }
}
