//! Operator impersonation for support (`impersonations`): an operator enters an ISP's console
//! with a stated reason for a fixed time. The platform host issues a single-use entry token
//! (stored hashed, redeemable for a minute) that only the ISP's own host can exchange for a
//! console session; that session ends at the time box, server-side, or earlier when the
//! operator or the owner ends it. Every action in it is audited as the operator.
//!
//! The visit sees the console as the ISP's owner sees it, but with the permissions of its
//! [`Access`] level, never more: `read_only` (the built-in read-only role's) or `support`
//! (also fixing subscribers, tickets, the catalogue and settings). Neither level may manage
//! staff (no account or role an operator could come back through), move money, or speak to
//! subscribers in the ISP's name; the owner's own account (password, second factor) is out of
//! reach altogether.

use chrono::{DateTime, Duration, Utc};
use kabinet_core::StaffId;
use kabinet_db::{TenantTx, sqlx};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use crate::sessions::{NewSession, SessionPolicy, plausible, random_token, token_hash};
use crate::{AccessError, ClientInfo, Permission, Principal, Role};

/// The shortest reason an operator may give (after trimming).
pub const MIN_REASON_CHARS: usize = 10;
/// The time box an operator may choose, in minutes.
pub const MINUTES: std::ops::RangeInclusive<i64> = 15..=120;
/// How long the entry token can be redeemed.
pub const TOKEN_TTL_SECS: i64 = 60;

/// What a visit may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    Support,
}

impl Access {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ReadOnly => "read_only",
            Self::Support => "support",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::ReadOnly, Self::Support]
            .into_iter()
            .find(|a| a.as_str() == raw)
    }

    /// The visit's permissions: the only ones its session ever has.
    pub fn permissions(&self) -> Vec<Permission> {
        use Permission::*;
        let mut permissions = Role::ReadOnly.permissions().to_vec();
        if *self == Self::Support {
            permissions.extend([
                SubscribersWrite,
                TicketsManage,
                CatalogueManage,
                SettingsManage,
                KbManage,
                NetworkManage,
            ]);
        }
        permissions
    }

    pub fn allows(&self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

/// The visit a console session belongs to (carried by [`Principal::Staff`]).
#[derive(Clone, Debug)]
pub struct Impersonating {
    pub id: Uuid,
    pub operator_id: Uuid,
    pub operator_name: String,
    pub reason: String,
    pub access: Access,
    /// The time box.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImpersonationError {
    #[error("state the reason for entering the console ({MIN_REASON_CHARS} characters at least)")]
    ReasonRequired,
    #[error("the time box is {} to {} minutes", MINUTES.start(), MINUTES.end())]
    Duration,
    #[error("this ISP has no active owner whose console could be entered")]
    NoOwner,
    /// Unknown, used, expired, or issued for another ISP: all the same to the caller.
    #[error("this entry link does not work any more; start again from the operator console")]
    TokenInvalid,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<sqlx::Error> for ImpersonationError {
    fn from(e: sqlx::Error) -> Self {
        Self::Access(e.into())
    }
}

/// A visit as the owner and the operator see it.
#[derive(Clone, Debug)]
pub struct Impersonation {
    pub id: Uuid,
    pub operator_id: Uuid,
    pub operator_name: String,
    pub reason: String,
    pub access: Access,
    pub created_at: DateTime<Utc>,
    pub redeemed_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `operator`, `owner` or `signed_out`.
    pub ended_by: Option<String>,
}

impl Impersonation {
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.ended_at.is_none() && self.expires_at > now
    }
}

const COLUMNS: &str = "id, operator_id, operator_name, reason, access, created_at, redeemed_at, \
                       expires_at, ended_at, ended_by";

fn from_row(row: &sqlx::postgres::PgRow) -> Result<Impersonation, ImpersonationError> {
    let access: String = row.try_get("access")?;
    Ok(Impersonation {
        id: row.try_get("id")?,
        operator_id: row.try_get("operator_id")?,
        operator_name: row.try_get("operator_name")?,
        reason: row.try_get("reason")?,
        access: Access::parse(&access).unwrap_or(Access::ReadOnly),
        created_at: row.try_get("created_at")?,
        redeemed_at: row.try_get("redeemed_at")?,
        expires_at: row.try_get("expires_at")?,
        ended_at: row.try_get("ended_at")?,
        ended_by: row.try_get("ended_by")?,
    })
}

/// The operator asking to enter.
pub struct Operator<'a> {
    pub id: Uuid,
    pub name: &'a str,
}

/// A started visit: the token goes to the operator's browser once and is never stored.
#[derive(Debug)]
pub struct Started {
    pub impersonation: Impersonation,
    pub token: String,
    pub token_expires_at: DateTime<Utc>,
}

/// Starts a visit in this ISP's transaction and records it in the ISP's audit chain.
pub async fn start(
    tx: &mut TenantTx,
    operator: Operator<'_>,
    reason: &str,
    minutes: i64,
    access: Access,
    client: &ClientInfo,
) -> Result<Started, ImpersonationError> {
    let reason = reason.trim();
    if reason.chars().count() < MIN_REASON_CHARS {
        return Err(ImpersonationError::ReasonRequired);
    }
    if !MINUTES.contains(&minutes) {
        return Err(ImpersonationError::Duration);
    }
    let tenant = tx.tenant();
    let owner: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT s.id, s.email FROM staff s JOIN staff_roles r ON r.tenant_id = s.tenant_id AND r.staff_id = s.id \
         WHERE s.tenant_id = $1 AND r.role = 'owner' AND s.active \
         ORDER BY s.created_at, s.id LIMIT 1",
    )
    .bind(tenant.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    let (owner, owner_email) = owner.ok_or(ImpersonationError::NoOwner)?;
    let token = random_token();
    let now = Utc::now();
    let token_expires_at = now + Duration::seconds(TOKEN_TTL_SECS);
    let row = sqlx::query(&format!(
        "INSERT INTO impersonations (tenant_id, id, operator_id, operator_name, reason, access, \
                                     staff_id, token_hash, token_expires_at, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(operator.id)
    .bind(operator.name)
    .bind(reason)
    .bind(access.as_str())
    .bind(owner)
    .bind(token_hash(&token))
    .bind(token_expires_at)
    .bind(now)
    .bind(now + Duration::minutes(minutes))
    .fetch_one(tx.conn())
    .await?;
    let impersonation = from_row(&row)?;
    crate::audit::record_operator(
        tx,
        operator.id,
        "impersonation.start",
        format!("impersonation:{}", impersonation.id),
        json!({
            "operator": { "id": operator.id, "name": operator.name },
            "reason": reason,
            "access": access.as_str(),
            "until": impersonation.expires_at,
        }),
        client,
    )
    .await?;
    kabinet_mail::enqueue(tx, visit_letter(&owner_email, &impersonation))
        .await
        .map_err(AccessError::from)?;
    Ok(Started {
        impersonation,
        token,
        token_expires_at,
    })
}

/// The owner's letter about a visit, in both languages (the owner's language is not stored).
fn visit_letter(to: &str, visit: &Impersonation) -> kabinet_mail::Mail {
    let until = visit.expires_at.format("%Y-%m-%d %H:%M UTC");
    let (name, reason) = (&visit.operator_name, &visit.reason);
    kabinet_mail::Mail {
        to: to.to_owned(),
        from_name: Some("Kabinet".into()),
        reply_to: None,
        subject:
            "Оператор платформы вошёл в вашу консоль / A platform operator entered your console"
                .into(),
        text: format!(
            "Оператор платформы {name} вошёл в консоль вашего провайдера до {until}.\n\
             Причина: {reason}\n\
             Его действия записываются в журнал аудита; завершить визит можно в консоли, \
             раздел «Визиты поддержки».\n\n\
             Platform operator {name} entered your ISP's console until {until}.\n\
             Reason: {reason}\n\
             Their actions are in the audit log; end the visit in the console under \
             \"Support visits\".\n"
        ),
        html: None,
    }
}

/// Exchanges an entry token for a console session on this ISP's host, once. The session lives
/// no longer than the visit.
pub async fn redeem(
    tx: &mut TenantTx,
    token: &str,
    policy: SessionPolicy,
    client: &ClientInfo,
) -> Result<NewSession, ImpersonationError> {
    if !plausible(token) {
        return Err(ImpersonationError::TokenInvalid);
    }
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "UPDATE impersonations SET redeemed_at = now() \
         WHERE tenant_id = $1 AND token_hash = $2 AND redeemed_at IS NULL \
           AND token_expires_at > now() AND ended_at IS NULL AND expires_at > now() \
         RETURNING staff_id, {COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(token_hash(token))
    .fetch_optional(tx.conn())
    .await?
    .ok_or(ImpersonationError::TokenInvalid)?;
    let visit = from_row(&row)?;
    let staff: Uuid = row.try_get("staff_id")?;
    let session_token = random_token();
    let csrf_token = random_token();
    let session_id = Uuid::now_v7();
    let expires_at = visit.expires_at.min(Utc::now() + policy.absolute);
    sqlx::query(
        "INSERT INTO sessions (tenant_id, id, token_hash, staff_id, impersonation_id, csrf_token, \
                               expires_at, client_addr, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, left($9, 300))",
    )
    .bind(tenant.as_uuid())
    .bind(session_id)
    .bind(token_hash(&session_token))
    .bind(staff)
    .bind(visit.id)
    .bind(&csrf_token)
    .bind(expires_at)
    .bind(&client.addr)
    .bind(&client.user_agent)
    .execute(tx.conn())
    .await?;
    let (policy_version, _) = crate::sessions::staff_access_state(tx, StaffId(staff)).await?;
    Ok(NewSession {
        token: session_token,
        expires_at,
        principal: Principal::Staff {
            tenant,
            id: StaffId(staff),
            display_name: visit.operator_name.clone(),
            roles: vec![],
            session_id,
            csrf_token,
            policy_version,
            two_factor_required: false,
            impersonation: Some(Box::new(Impersonating {
                id: visit.id,
                operator_id: visit.operator_id,
                operator_name: visit.operator_name,
                reason: visit.reason,
                access: visit.access,
                expires_at: visit.expires_at,
            })),
        },
    })
}

/// This ISP's visits, newest first (at most `limit`).
pub async fn list(tx: &mut TenantTx, limit: i64) -> Result<Vec<Impersonation>, ImpersonationError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM impersonations WHERE tenant_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(tenant.as_uuid())
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Who ends a visit early.
#[derive(Clone, Copy, Debug)]
pub enum EndedBy {
    Operator,
    Owner(StaffId),
}

/// Ends a visit now: its sessions end and the audit chain records it (the trigger
/// `impersonation_ended` does both, so a sign-out ends it the same way). Ending an ended visit
/// changes nothing.
pub async fn end(
    tx: &mut TenantTx,
    id: Uuid,
    by: EndedBy,
) -> Result<Impersonation, ImpersonationError> {
    let tenant = tx.tenant();
    let (label, staff) = match by {
        EndedBy::Operator => ("operator", None),
        EndedBy::Owner(staff) => ("owner", Some(staff.as_uuid())),
    };
    sqlx::query(
        "UPDATE impersonations SET ended_at = now(), ended_by = $3, ended_by_staff = $4 \
         WHERE tenant_id = $1 AND id = $2 AND ended_at IS NULL",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(label)
    .bind(staff)
    .execute(tx.conn())
    .await?;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM impersonations WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(ImpersonationError::NotFound)?;
    from_row(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_level_manages_staff_or_moves_money() {
        for access in [Access::ReadOnly, Access::Support] {
            assert!(!access.allows(Permission::StaffManage));
            assert!(!access.allows(Permission::BillingWrite));
            assert!(!access.allows(Permission::TicketsReply));
            assert!(access.allows(Permission::TicketsRead));
            assert_eq!(Access::parse(access.as_str()), Some(access));
        }
        assert!(!Access::ReadOnly.allows(Permission::SubscribersWrite));
        assert!(Access::Support.allows(Permission::SubscribersWrite));
    }
}
