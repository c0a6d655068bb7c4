//! The `/api/v1` operations, one module per audience. Handlers are thin: authenticate (the
//! security scheme parameter), authorize (one `require` per staff route), call one domain
//! function inside a tenant transaction, map the result to wire types (`dto.rs`).

mod account;
mod audit;
mod billing;
mod console;
mod dto;
mod equipment;
mod network;
mod news;
mod password_reset;
mod payments;
mod platform;
mod portal;
mod profile;
mod session;
mod settings;
mod signup;
mod staff_access;
mod statements;
mod subscribers;
mod support;
mod text;
mod ticket_files;
mod two_factor;

pub type Apis = (
    session::SessionApi,
    portal::PortalApi,
    statements::StatementsApi,
    statements::ConsoleStatementsApi,
    account::AccountApi,
    // Equipment, news and the network, cabinet and console (nested: at most 16 APIs per tuple).
    (
        equipment::EquipmentApi,
        equipment::EquipmentOrdersApi,
        news::NewsApi,
        news::NewsEditorApi,
        (
            network::NetworkConsoleApi,
            network::ServiceLoginsApi,
            network::MyNetworkApi,
        ),
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
    // The operator console and self-serve signup (platform host).
    (
        platform::PlatformApi,
        signup::SignupApi,
        settings::SettingsApi,
    ),
    // Ticket attachments and notifications, cabinet and console.
    (
        ticket_files::TicketFilesApi,
        ticket_files::ConsoleTicketFilesApi,
    ),
    // Ticket search, the knowledge base and deflection, cabinet and console.
    (support::ConsoleSupportApi, support::PortalSupportApi),
    // Subscribers in the console: search, create, edit, block, CSV import.
    subscribers::SubscribersApi,
    // Staff, roles and the audit log in the console.
    (staff_access::StaffAccessApi, audit::AuditApi),
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
            (
                network::NetworkConsoleApi,
                network::ServiceLoginsApi,
                network::MyNetworkApi,
            ),
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
        (
            platform::PlatformApi,
            signup::SignupApi,
            settings::SettingsApi,
        ),
        (
            ticket_files::TicketFilesApi,
            ticket_files::ConsoleTicketFilesApi,
        ),
        (support::ConsoleSupportApi, support::PortalSupportApi),
        subscribers::SubscribersApi,
        (staff_access::StaffAccessApi, audit::AuditApi),
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
