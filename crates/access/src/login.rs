//! Signing in: throttle check, password check (constant work whether or not the account
//! exists), then a session — or, for an account with two-factor authentication, a short-lived
//! challenge that [`complete_second_factor`] turns into a session for a valid code. Every failed
//! password looks the same from outside.

use chrono::{DateTime, Duration, Utc};
use kabinet_core::{StaffId, SubscriberId, TenantId};
use kabinet_db::{Database, TenantTx, sqlx};
use uuid::Uuid;

use crate::sessions::{
    NewSession, Principal, SessionOwner, SessionPolicy, plausible, random_token, token_hash,
};
use crate::throttle::{self, Buckets, ThrottlePolicy};
use crate::{
    AccessError, Account, ClientInfo, Role, SecretKey, password::verify_password, two_factor,
};

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

/// What a correct password leads to.
#[derive(Debug)]
pub enum LoginOutcome {
    /// Signed in: no second factor is set up.
    SignedIn(NewSession),
    /// The account has two-factor authentication: no session yet, only a challenge to answer
    /// with a code at [`complete_second_factor`].
    SecondFactor(Challenge),
}

/// A sign-in waiting for its second factor. The token goes to the client and is never stored.
#[derive(Debug)]
pub struct Challenge {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// How long a client has to give the second factor after the password.
pub const CHALLENGE_TTL_SECS: i64 = 5 * 60;
/// Wrong codes a challenge takes before it dies (the throttle counts them too).
pub const CHALLENGE_MAX_FAILURES: i32 = 5;

async fn issue_challenge(tx: &mut TenantTx, account: Account) -> Result<Challenge, AccessError> {
    let token = random_token();
    let expires_at = Utc::now() + Duration::seconds(CHALLENGE_TTL_SECS);
    let (subscriber, staff) = account.columns();
    let tenant = tx.tenant();
    // Expired challenges of this account go as new ones come.
    sqlx::query(&format!(
        "DELETE FROM login_challenges WHERE tenant_id = $1 AND {} = $2 AND expires_at <= now()",
        account.column()
    ))
    .bind(tenant.as_uuid())
    .bind(account.id())
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO login_challenges (tenant_id, id, token_hash, subscriber_id, staff_id, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(token_hash(&token))
    .bind(subscriber)
    .bind(staff)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(Challenge { token, expires_at })
}

/// After the password: a session, or a challenge when the account has a second factor.
async fn finish(
    mut tx: TenantTx,
    attempt: Attempt<'_>,
    account: Account,
    candidate: Candidate,
    session_policy: SessionPolicy,
    client: &ClientInfo,
) -> Result<LoginOutcome, AccessError> {
    if two_factor::is_enabled(&mut tx, account).await? {
        let challenge = issue_challenge(&mut tx, account).await?;
        tx.commit().await?;
        // The password bucket is cleared as for any correct password; wrong codes count in the
        // account's own second-factor bucket, which only a correct code clears.
        attempt.succeeded().await?;
        return Ok(LoginOutcome::SecondFactor(challenge));
    }
    let session = open_session(&mut tx, account, candidate, session_policy, client).await?;
    tx.commit().await?;
    attempt.succeeded().await?;
    Ok(LoginOutcome::SignedIn(session))
}

async fn open_session(
    tx: &mut TenantTx,
    account: Account,
    candidate: Candidate,
    session_policy: SessionPolicy,
    client: &ClientInfo,
) -> Result<NewSession, AccessError> {
    let tenant = tx.tenant();
    let owner = match account {
        Account::Subscriber(id) => SessionOwner::Subscriber(id),
        Account::Staff(id) => SessionOwner::Staff(id),
    };
    let (token, csrf_token, session_id, expires_at) =
        crate::sessions::issue_tenant_session(tx, owner, session_policy, client).await?;
    let access = match account {
        Account::Staff(id) => crate::sessions::staff_access_state(tx, id).await?,
        Account::Subscriber(_) => (0, false),
    };
    let principal = match account {
        Account::Subscriber(id) => Principal::Subscriber {
            tenant,
            id,
            display_name: candidate.display_name,
            session_id,
            csrf_token,
        },
        Account::Staff(id) => Principal::Staff {
            tenant,
            id,
            display_name: candidate.display_name,
            roles: candidate
                .roles
                .iter()
                .filter_map(|r| Role::parse(r))
                .collect(),
            session_id,
            csrf_token,
            policy_version: access.0,
            two_factor_required: access.1,
            impersonation: None,
        },
    };
    Ok(NewSession {
        token,
        expires_at,
        principal,
    })
}

const STAFF_CANDIDATE: &str = "SELECT s.id, s.display_name, s.password_hash, \
        COALESCE((SELECT array_agg(r.role ORDER BY r.role) FROM staff_roles r \
                  WHERE r.tenant_id = s.tenant_id AND r.staff_id = s.id), '{}') AS roles \
 FROM staff s WHERE s.tenant_id = $1 AND s.active";

/// Signs a subscriber in by account number, e-mail or phone.
pub async fn login_subscriber(
    db: &Database,
    tenant: TenantId,
    login: &str,
    password: &str,
    client: &ClientInfo,
    session_policy: SessionPolicy,
    throttle_policy: ThrottlePolicy,
) -> Result<LoginOutcome, AccessError> {
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
    let candidate = attempt.verify(found, password).await?;
    let account = Account::Subscriber(SubscriberId(candidate.id));
    finish(tx, attempt, account, candidate, session_policy, client).await
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
) -> Result<LoginOutcome, AccessError> {
    let attempt = Attempt::start(
        db,
        &format!("t:{tenant}:staff"),
        email,
        client,
        throttle_policy,
    )
    .await?;
    let mut tx = db.tenant_tx(tenant).await?;
    let found: Option<Candidate> =
        sqlx::query_as(&format!("{STAFF_CANDIDATE} AND s.email = lower($2)"))
            .bind(tenant.as_uuid())
            .bind(email.trim())
            .fetch_optional(tx.conn())
            .await?;
    let candidate = attempt.verify(found, password).await?;
    let account = Account::Staff(StaffId(candidate.id));
    finish(tx, attempt, account, candidate, session_policy, client).await
}

/// The second step of a sign-in: the challenge from the password step and a code from the
/// authenticator app, or one of the recovery codes. Throttled like the password: wrong codes
/// count per account and per address, and a challenge dies after
/// [`CHALLENGE_MAX_FAILURES`] of them or [`CHALLENGE_TTL_SECS`].
#[allow(clippy::too_many_arguments)]
pub async fn complete_second_factor(
    db: &Database,
    key: &SecretKey,
    tenant: TenantId,
    challenge: &str,
    code: &str,
    client: &ClientInfo,
    session_policy: SessionPolicy,
    throttle_policy: ThrottlePolicy,
) -> Result<NewSession, AccessError> {
    if !plausible(challenge) {
        return Err(AccessError::ChallengeExpired);
    }
    let mut tx = db.tenant_tx(tenant).await?;
    let row: Option<(Uuid, Option<Uuid>, Option<Uuid>)> = sqlx::query_as(
        "SELECT id, subscriber_id, staff_id FROM login_challenges \
         WHERE tenant_id = $1 AND token_hash = $2 AND expires_at > now() AND failures < $3 \
         FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(token_hash(challenge))
    .bind(CHALLENGE_MAX_FAILURES)
    .fetch_optional(tx.conn())
    .await?;
    let Some((challenge_id, account)) =
        row.and_then(|(id, sub, staff)| Account::from_columns(sub, staff).map(|a| (id, a)))
    else {
        return Err(AccessError::ChallengeExpired);
    };
    let buckets = Buckets {
        account: format!("t:{tenant}:second-factor:{}", account.id()),
        address: client.addr.as_ref().map(|a| format!("addr:{a}")),
    };
    throttle::ensure_not_locked(db, &buckets).await?;

    let plausible_code = code.len() <= 64 && !code.chars().any(char::is_control);
    if !(plausible_code && two_factor::verify_for_sign_in(&mut tx, key, account, code).await?) {
        sqlx::query(
            "UPDATE login_challenges SET failures = failures + 1 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(challenge_id)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        throttle::record_failure(db, &buckets, throttle_policy).await?;
        return Err(AccessError::SecondFactorInvalid);
    }
    sqlx::query("DELETE FROM login_challenges WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_uuid())
        .bind(challenge_id)
        .execute(tx.conn())
        .await?;
    let candidate: Option<Candidate> = match account {
        Account::Subscriber(id) => {
            sqlx::query_as(
                "SELECT id, full_name AS display_name, password_hash FROM subscribers \
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(tx.conn())
            .await?
        }
        Account::Staff(id) => {
            sqlx::query_as(&format!("{STAFF_CANDIDATE} AND s.id = $2"))
                .bind(tenant.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(tx.conn())
                .await?
        }
    };
    // Deactivated since the password step: the sign-in is over.
    let candidate = candidate.ok_or(AccessError::ChallengeExpired)?;
    let session = open_session(&mut tx, account, candidate, session_policy, client).await?;
    tx.commit().await?;
    throttle::record_success(db, &buckets).await?;
    Ok(session)
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

/// Signs in a staff member who proved who they are another way (following the signup
/// confirmation link), in `tx`. Inactive staff are refused like an unknown account.
pub(crate) async fn open_staff_session(
    tx: &mut TenantTx,
    staff: StaffId,
    session_policy: SessionPolicy,
    client: &ClientInfo,
) -> Result<NewSession, AccessError> {
    let candidate: Candidate = sqlx::query_as(&format!("{STAFF_CANDIDATE} AND s.id = $2"))
        .bind(tx.tenant().as_uuid())
        .bind(staff.as_uuid())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(AccessError::InvalidCredentials)?;
    open_session(tx, Account::Staff(staff), candidate, session_policy, client).await
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
