//! The `/api/v1` operations, one module per audience. Handlers are thin: authenticate (the
//! security scheme parameter), authorize (one `require` per staff route), call one domain
//! function inside a tenant transaction, map the result to wire types (`dto.rs`).

mod account;
mod billing;
mod console;
mod dto;
mod payments;
mod platform;
mod portal;
mod profile;
mod session;
mod text;

pub type Apis = (
    session::SessionApi,
    portal::PortalApi,
    account::AccountApi,
    payments::PaymentsApi,
    profile::ProfileApi,
    console::ConsoleApi,
    billing::BillingApi,
    platform::PlatformApi,
);

pub fn apis() -> Apis {
    (
        session::SessionApi,
        portal::PortalApi,
        account::AccountApi,
        payments::PaymentsApi,
        profile::ProfileApi,
        console::ConsoleApi,
        billing::BillingApi,
        platform::PlatformApi,
    )
}

#[derive(poem_openapi::Tags)]
pub enum Tag {
    /// Which site this is, signing in and out.
    Session,
    /// The subscriber cabinet.
    Portal,
    /// The ISP staff console.
    Console,
    /// The SaaS operator console.
    Platform,
}
