//! Identity and access. Three kinds of principal — a tenant's subscribers, a tenant's staff, and
//! the platform's operators — each signing in with a password (argon2id) into an opaque
//! server-side session. Staff permissions are casbin RBAC with tenants as domains.
//!
//! Subscribers and staff may add a second factor ([`two_factor`]: TOTP and recovery codes),
//! which turns a correct password into a short-lived sign-in challenge ([`login`]), and may reset
//! a forgotten password by e-mail ([`password_reset`], through `kabinet-mail`'s outbox).
//!
//! Owns `subscribers`, `staff`, `staff_roles`, `custom_roles`, `staff_custom_roles`,
//! `authz_policy_versions`, `staff_security_settings`, `sessions`, `audit_log` (a hash chain
//! per ISP, `audit_chain_heads`), `operators`,
//! `operator_sessions`, `login_throttle`, `two_factor`, `recovery_codes`, `login_challenges` and
//! `password_reset_tokens`. The gateway calls [`login`], [`sessions`], [`Authorizer`], [`roles`]
//! and [`audit`];
//! provisioning calls [`directory`] to create principals.

pub mod account_security;
pub mod audit;
mod authz;
pub mod directory;
mod error;
pub mod impersonation;
pub mod invitations;
pub mod login;
mod password;
pub mod password_reset;
pub mod roles;
mod secret_key;
pub mod sessions;
pub mod signup;
pub mod subscribers;
mod throttle;
pub mod two_factor;

pub use audit::{AuditEntry, record};
pub use authz::{Authorizer, Permission, Role};
pub use error::AccessError;
pub use password::{hash_password, verify_password};
pub use secret_key::SecretKey;
pub use sessions::{Principal, SessionPolicy};
pub use throttle::ThrottlePolicy;

/// A tenant's principal that signs in with a password: a subscriber or a staff member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Account {
    Subscriber(kabinet_core::SubscriberId),
    Staff(kabinet_core::StaffId),
}

impl Account {
    pub fn id(self) -> uuid::Uuid {
        match self {
            Self::Subscriber(id) => id.as_uuid(),
            Self::Staff(id) => id.as_uuid(),
        }
    }

    /// The column naming this kind of principal in the tables that hold either kind.
    pub(crate) fn column(self) -> &'static str {
        match self {
            Self::Subscriber(_) => "subscriber_id",
            Self::Staff(_) => "staff_id",
        }
    }

    /// `(subscriber_id, staff_id)`, exactly one set.
    pub(crate) fn columns(self) -> (Option<uuid::Uuid>, Option<uuid::Uuid>) {
        match self {
            Self::Subscriber(id) => (Some(id.as_uuid()), None),
            Self::Staff(id) => (None, Some(id.as_uuid())),
        }
    }

    pub(crate) fn from_columns(
        subscriber: Option<uuid::Uuid>,
        staff: Option<uuid::Uuid>,
    ) -> Option<Self> {
        match (subscriber, staff) {
            (Some(id), None) => Some(Self::Subscriber(kabinet_core::SubscriberId(id))),
            (None, Some(id)) => Some(Self::Staff(kabinet_core::StaffId(id))),
            _ => None,
        }
    }

    /// The account behind a tenant principal (operators have none).
    pub fn of(principal: &Principal) -> Option<Self> {
        match principal {
            Principal::Subscriber { id, .. } => Some(Self::Subscriber(*id)),
            Principal::Staff { id, .. } => Some(Self::Staff(*id)),
            Principal::Operator { .. } => None,
        }
    }
}

/// Where a request came from, for sessions, throttling and the audit log.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub addr: Option<String>,
    pub user_agent: Option<String>,
}
