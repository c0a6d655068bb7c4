//! The `/api/v1` operations, one module per audience. Handlers are thin: authenticate (the
//! security scheme parameter), authorize (one `require` per staff route), call one domain
//! function inside a tenant transaction, map the result to wire types (`dto.rs`).

mod account;
mod billing;
mod console;
mod dto;
mod equipment;
mod news;
mod password_reset;
mod payments;
mod platform;
mod portal;
mod profile;
mod session;
mod statements;
mod text;
mod two_factor;

pub type Apis = (
    session::SessionApi,
    portal::PortalApi,
    statements::StatementsApi,
    statements::ConsoleStatementsApi,
    account::AccountApi,
    // Equipment and news, cabinet and console (nested: at most 16 APIs per tuple).
    (
        equipment::EquipmentApi,
        equipment::EquipmentOrdersApi,
        news::NewsApi,
        news::NewsEditorApi,
    ),
    payments::PaymentsApi,
    profile::ProfileApi,
    // Account security (one tuple: poem-openapi takes at most 16 APIs per tuple).
    (
        password_reset::PasswordResetApi,
        two_factor::PortalTwoFactorApi,
        two_factor::ConsoleTwoFactorApi,
    ),
    console::ConsoleApi,
    billing::BillingApi,
    platform::PlatformApi,
);

pub fn apis() -> Apis {
    (
        session::SessionApi,
        portal::PortalApi,
        statements::StatementsApi,
        statements::ConsoleStatementsApi,
        account::AccountApi,
        (
            equipment::EquipmentApi,
            equipment::EquipmentOrdersApi,
            news::NewsApi,
            news::NewsEditorApi,
        ),
        payments::PaymentsApi,
        profile::ProfileApi,
        (
            password_reset::PasswordResetApi,
            two_factor::PortalTwoFactorApi,
            two_factor::ConsoleTwoFactorApi,
        ),
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
