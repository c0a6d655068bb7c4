//! The few types every Kabinet crate shares: typed ids, money in integer minor units, a clock.
//!
//! Nothing here touches the database or HTTP; domain crates build on these types and the
//! gateway maps them to the wire. Keep it small: a type belongs here only when two or more
//! domain crates need it.

pub mod clock;
pub mod email;
pub mod ids;
pub mod money;

pub use clock::{Clock, SystemClock};
pub use email::is_plausible_email;
pub use ids::{StaffId, SubscriberId, TenantId, TicketId};
pub use money::{Currency, Money, MoneyError};
