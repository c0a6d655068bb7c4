//! Opaque server-side sessions. The cookie carries 256 random bits; the database keeps only
//! their SHA-256, the principal, a CSRF token, and the idle and absolute deadlines.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use kabinet_core::{StaffId, SubscriberId, TenantId};
use kabinet_db::{PlatformTx, TenantTx, sqlx};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::{AccessError, ClientInfo, Role};

/// How long sessions live.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::hours(8),
            absolute: Duration::days(14),
        }
    }
}

/// Who is calling, as established from a session.
#[derive(Clone, Debug)]
pub enum Principal {
    Subscriber {
        tenant: TenantId,
        id: SubscriberId,
        display_name: String,
        session_id: Uuid,
        csrf_token: String,
    },
    Staff {
        tenant: TenantId,
        id: StaffId,
        display_name: String,
        roles: Vec<Role>,
        session_id: Uuid,
        csrf_token: String,
        /// The ISP's policy version when the session was read: permission checks use an
        /// enforcer at least this new.
        policy_version: i64,
        /// The ISP requires two-factor sign-in and this staff member has not set it up yet:
        /// every permission check refuses until they have.
        two_factor_required: bool,
        /// An operator's support visit ([`crate::impersonation`]): its permissions and actor
        /// replace the staff member's.
        impersonation: Option<Box<crate::impersonation::Impersonating>>,
    },
    Operator {
        id: Uuid,
        display_name: String,
        session_id: Uuid,
        csrf_token: String,
    },
}

impl Principal {
    pub fn csrf_token(&self) -> &str {
        match self {
            Self::Subscriber { csrf_token, .. }
            | Self::Staff { csrf_token, .. }
            | Self::Operator { csrf_token, .. } => csrf_token,
        }
    }

    pub fn display_name(&self) -> &str {
        match self {
            Self::Subscriber { display_name, .. }
            | Self::Staff { display_name, .. }
            | Self::Operator { display_name, .. } => display_name,
        }
    }

    /// A short label for logs: kind and id, never a name or token.
    pub fn log_label(&self) -> String {
        match self {
            Self::Subscriber { id, .. } => format!("subscriber:{id}"),
            Self::Staff { id, .. } => format!("staff:{id}"),
            Self::Operator { id, .. } => format!("operator:{id}"),
        }
    }

    /// Constant-time comparison of a presented CSRF token with the session's.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        let expected = self.csrf_token().as_bytes();
        expected.len() == presented.len() && bool::from(expected.ct_eq(presented.as_bytes()))
    }
}

/// A freshly issued session: the token goes into the cookie and is never stored.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub principal: Principal,
    pub expires_at: DateTime<Utc>,
}

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Cookie values are 43 URL-safe base64 characters; anything else is not worth a query.
pub(crate) fn plausible(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(crate) enum SessionOwner {
    Subscriber(SubscriberId),
    Staff(StaffId),
}

pub(crate) async fn issue_tenant_session(
    tx: &mut TenantTx,
    owner: SessionOwner,
    policy: SessionPolicy,
    client: &ClientInfo,
) -> Result<(String, String, Uuid, DateTime<Utc>), AccessError> {
    let token = random_token();
    let csrf = random_token();
    let id = Uuid::now_v7();
    let expires_at = Utc::now() + policy.absolute;
    let (subscriber, staff) = match owner {
        SessionOwner::Subscriber(s) => (Some(s.as_uuid()), None),
        SessionOwner::Staff(s) => (None, Some(s.as_uuid())),
    };
    let tenant = tx.tenant();
    sqlx::query(
        "INSERT INTO sessions (tenant_id, id, token_hash, subscriber_id, staff_id, csrf_token, expires_at, client_addr, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, left($9, 300))",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(token_hash(&token))
    .bind(subscriber)
    .bind(staff)
    .bind(&csrf)
    .bind(expires_at)
    .bind(&client.addr)
    .bind(&client.user_agent)
    .execute(tx.conn())
    .await?;
    Ok((token, csrf, id, expires_at))
}

/// A staff member's access state, as columns over `s.tenant_id` and `s.staff_id`: the ISP's
/// policy version and whether the ISP's two-factor rule still holds them back.
const STAFF_ACCESS_COLUMNS: &str = "\
    COALESCE((SELECT v.version FROM authz_policy_versions v \
              WHERE v.tenant_id = s.tenant_id), 0) AS policy_version, \
    (s.staff_id IS NOT NULL \
     AND COALESCE((SELECT x.require_two_factor FROM staff_security_settings x \
                   WHERE x.tenant_id = s.tenant_id), false) \
     AND NOT EXISTS (SELECT 1 FROM two_factor t WHERE t.tenant_id = s.tenant_id \
                     AND t.staff_id = s.staff_id AND t.enabled_at IS NOT NULL)) AS two_factor_required";

/// [`STAFF_ACCESS_COLUMNS`] for one staff member: (policy version, two-factor required).
pub(crate) async fn staff_access_state(
    tx: &mut TenantTx,
    staff: StaffId,
) -> Result<(i64, bool), AccessError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT {STAFF_ACCESS_COLUMNS} FROM (SELECT $1::uuid AS tenant_id, $2::uuid AS staff_id) s"
    ))
    .bind(tenant.as_uuid())
    .bind(staff.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    Ok((
        row.try_get("policy_version")?,
        row.try_get("two_factor_required")?,
    ))
}

/// The principal behind `token` on this tenant's host, if the session is live.
/// A token issued on another ISP's host is simply not found here.
pub async fn find_tenant_session(
    tx: &mut TenantTx,
    token: &str,
    policy: SessionPolicy,
) -> Result<Principal, AccessError> {
    if !plausible(token) {
        return Err(AccessError::Unauthenticated);
    }
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT s.id, s.csrf_token, s.subscriber_id, s.staff_id, s.last_seen_at, \
                COALESCE(i.operator_name, sub.full_name, st.display_name) AS display_name, \
                COALESCE((SELECT array_agg(r.role ORDER BY r.role) FROM staff_roles r \
                          WHERE r.tenant_id = s.tenant_id AND r.staff_id = s.staff_id), '{{}}') AS roles, \
                i.id AS visit_id, i.operator_id AS visit_operator, i.reason AS visit_reason, \
                i.access AS visit_access, i.expires_at AS visit_expires_at, \
                {STAFF_ACCESS_COLUMNS} \
         FROM sessions s \
         LEFT JOIN subscribers sub ON sub.tenant_id = s.tenant_id AND sub.id = s.subscriber_id \
         LEFT JOIN staff st ON st.tenant_id = s.tenant_id AND st.id = s.staff_id \
         LEFT JOIN impersonations i ON i.tenant_id = s.tenant_id AND i.id = s.impersonation_id \
         WHERE s.tenant_id = $1 AND s.token_hash = $2 AND s.revoked_at IS NULL \
           AND s.expires_at > now() AND s.last_seen_at > now() - $3::interval \
           AND (s.staff_id IS NULL OR st.active) \
           AND (s.impersonation_id IS NULL OR (i.ended_at IS NULL AND i.expires_at > now()))",
    ))
    .bind(tenant.as_uuid())
    .bind(token_hash(token))
    .bind(format!("{} seconds", policy.idle.num_seconds()))
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AccessError::Unauthenticated)?;

    let session_id: Uuid = row.try_get("id")?;
    let last_seen: DateTime<Utc> = row.try_get("last_seen_at")?;
    // Sliding idle expiry, written at most once a minute per session.
    if Utc::now() - last_seen > Duration::seconds(60) {
        sqlx::query("UPDATE sessions SET last_seen_at = now() WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(session_id)
            .execute(tx.conn())
            .await?;
    }
    let csrf_token: String = row.try_get("csrf_token")?;
    let display_name: String = row.try_get("display_name")?;
    let subscriber: Option<Uuid> = row.try_get("subscriber_id")?;
    let staff: Option<Uuid> = row.try_get("staff_id")?;
    match (subscriber, staff) {
        (Some(id), None) => Ok(Principal::Subscriber {
            tenant,
            id: SubscriberId(id),
            display_name,
            session_id,
            csrf_token,
        }),
        (None, Some(id)) => {
            let roles: Vec<String> = row.try_get("roles")?;
            let visit: Option<Uuid> = row.try_get("visit_id")?;
            let impersonation = match visit {
                Some(visit) => {
                    let access: String = row.try_get("visit_access")?;
                    Some(Box::new(crate::impersonation::Impersonating {
                        id: visit,
                        operator_id: row.try_get("visit_operator")?,
                        operator_name: display_name.clone(),
                        reason: row.try_get("visit_reason")?,
                        access: crate::impersonation::Access::parse(&access)
                            .ok_or(AccessError::Unauthenticated)?,
                        expires_at: row.try_get("visit_expires_at")?,
                    }))
                }
                None => None,
            };
            Ok(Principal::Staff {
                tenant,
                id: StaffId(id),
                display_name,
                // A visit holds only its own permissions, never the owner's roles.
                roles: if impersonation.is_some() {
                    vec![]
                } else {
                    roles.iter().filter_map(|r| Role::parse(r)).collect()
                },
                session_id,
                csrf_token,
                policy_version: row.try_get("policy_version")?,
                two_factor_required: impersonation.is_none()
                    && row.try_get::<bool, _>("two_factor_required")?,
                impersonation,
            })
        }
        _ => Err(AccessError::Unauthenticated),
    }
}

/// Ends one session ("sign out").
pub async fn revoke_tenant_session(tx: &mut TenantTx, session_id: Uuid) -> Result<(), AccessError> {
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE sessions SET revoked_at = now() WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
    )
    .bind(tenant.as_uuid())
    .bind(session_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Ends every session of the principal ("sign out everywhere").
pub async fn revoke_all_tenant_sessions(
    tx: &mut TenantTx,
    principal: &Principal,
) -> Result<u64, AccessError> {
    let tenant = tx.tenant();
    let (column, id) = match principal {
        // An operator's visit ends only itself, never the owner's own sessions.
        Principal::Staff {
            impersonation: Some(_),
            session_id,
            ..
        } => ("id", *session_id),
        Principal::Subscriber { id, .. } => ("subscriber_id", id.as_uuid()),
        Principal::Staff { id, .. } => ("staff_id", id.as_uuid()),
        Principal::Operator { .. } => return Err(AccessError::Unauthenticated),
    };
    let done = sqlx::query(&format!(
        "UPDATE sessions SET revoked_at = now() WHERE tenant_id = $1 AND {column} = $2 AND revoked_at IS NULL"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn issue_operator_session(
    tx: &mut PlatformTx,
    operator: Uuid,
    policy: SessionPolicy,
) -> Result<(String, String, Uuid, DateTime<Utc>), AccessError> {
    let token = random_token();
    let csrf = random_token();
    let id = Uuid::now_v7();
    let expires_at = Utc::now() + policy.absolute;
    sqlx::query(
        "INSERT INTO operator_sessions (id, token_hash, operator_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(token_hash(&token))
    .bind(operator)
    .bind(&csrf)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok((token, csrf, id, expires_at))
}

pub async fn find_operator_session(
    tx: &mut PlatformTx,
    token: &str,
    policy: SessionPolicy,
) -> Result<Principal, AccessError> {
    if !plausible(token) {
        return Err(AccessError::Unauthenticated);
    }
    let row = sqlx::query(
        "UPDATE operator_sessions s SET last_seen_at = now() FROM operators o \
         WHERE o.id = s.operator_id AND o.active AND s.token_hash = $1 AND s.revoked_at IS NULL \
           AND s.expires_at > now() AND s.last_seen_at > now() - $2::interval \
         RETURNING s.id, s.csrf_token, o.id AS operator_id, o.display_name",
    )
    .bind(token_hash(token))
    .bind(format!("{} seconds", policy.idle.num_seconds()))
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AccessError::Unauthenticated)?;
    Ok(Principal::Operator {
        id: row.try_get("operator_id")?,
        display_name: row.try_get("display_name")?,
        session_id: row.try_get("id")?,
        csrf_token: row.try_get("csrf_token")?,
    })
}

pub async fn revoke_operator_session(
    tx: &mut PlatformTx,
    session_id: Uuid,
) -> Result<(), AccessError> {
    sqlx::query(
        "UPDATE operator_sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(session_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn revoke_all_operator_sessions(
    tx: &mut PlatformTx,
    operator: Uuid,
) -> Result<(), AccessError> {
    sqlx::query(
        "UPDATE operator_sessions SET revoked_at = now() WHERE operator_id = $1 AND revoked_at IS NULL",
    )
    .bind(operator)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert!(plausible(&a) && plausible(&b));
        assert_ne!(a, b);
        assert!(!plausible("short"));
        assert!(!plausible(&format!("{}!", &a[..42])));
    }
}
