//! Network integration: it owns NAS devices, service logins, RADIUS authorization/accounting, sessions and CoA/Disconnect.
//!
//! FreeRADIUS (configured from `deploy/freeradius/`) receives the NAS's packets and asks Kabinet
//! over the internal HTTP listener. The ISP is always the NAS's, found from the packet's source
//! address (`nas::resolve`), never from anything the subscriber sends; the rest runs in that
//! ISP's transaction. `aaa` decides Access-Accept/Reject and records accounting; `coa` sends
//! what account changes queued (a trigger on `accounts`) to the NAS holding each session.

pub mod aaa;
pub mod coa;
pub mod local_freeradius;
pub mod logins;
pub mod nas;
pub mod radius;
pub mod sessions;
pub mod settings;

use kabinet_db::{DbError, sqlx};

pub use aaa::{AcctRequest, AcctStatus, AuthRequest, Decision, authorize, record_accounting};
pub use logins::{LoginKind, LoginSpec, ServiceLogin};
pub use nas::{Nas, NasRef, NasSpec, Vendor};

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("not found")]
    NotFound,
    #[error("{field} {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("address {0} already belongs to a NAS")]
    AddressTaken(String),
    #[error("a NAS named {0:?} already exists")]
    NameTaken(String),
    #[error("login {0:?} already exists")]
    UsernameTaken(String),
    #[error("address {0} is already assigned to another login")]
    FramedIpTaken(String),
    #[error("stored secret: {0}")]
    Secret(String),
    #[error("corrupt network data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for NetworkError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

impl From<kabinet_access::AccessError> for NetworkError {
    fn from(e: kabinet_access::AccessError) -> Self {
        Self::Secret(e.to_string())
    }
}

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> NetworkError {
    NetworkError::Invalid {
        field,
        reason: reason.into(),
    }
}
