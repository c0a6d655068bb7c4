//! Identity and access. Three kinds of principal — a tenant's subscribers, a tenant's staff, and
//! the platform's operators — each signing in with a password (argon2id) into an opaque
//! server-side session. Staff permissions are casbin RBAC with tenants as domains.
//!
//! Owns `subscribers`, `staff`, `staff_roles`, `sessions`, `audit_log`, `operators`,
//! `operator_sessions` and `login_throttle`. The gateway calls [`login`], [`sessions`] and
//! [`Authorizer`]; provisioning calls [`directory`] to create principals.

pub mod account_security;
pub mod audit;
mod authz;
pub mod directory;
mod error;
pub mod login;
mod password;
pub mod sessions;
mod throttle;

pub use authz::{Authorizer, Permission, Role};
pub use error::AccessError;
pub use password::{hash_password, verify_password};
pub use sessions::{Principal, SessionPolicy};
pub use throttle::ThrottlePolicy;

/// Where a request came from, for sessions, throttling and the audit log.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub addr: Option<String>,
    pub user_agent: Option<String>,
}
