//! The `/api/v1` operations, one module per audience. Handlers are thin: authenticate (the
//! security scheme parameter), authorize (one `require` per staff route), call one domain
//! function inside a tenant transaction, map the result to wire types (`dto.rs`).

mod account;
mod assignment;
mod audit;
mod billing;
mod catalogue;
mod console;
mod domains;
mod dto;
mod equipment;
mod incidents;
mod invitations;
mod letters;
mod network;
mod news;
mod operator_support;
mod password_reset;
mod payments;
mod platform;
mod platform_metrics;
mod portal;
mod profile;
mod saas_billing;
pub(crate) mod saas_plans;
mod session;
mod settings;
mod shifts;
mod signup;
mod staff_access;
mod statements;
mod storage_settings;
mod stripe_connect;
mod subscribers;
mod support;
mod tenant_export;
mod text;
mod ticket_categories;
mod ticket_files;
mod ticket_insights;
mod ticket_live;
mod ticket_tools;
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
    // Subscribers in the console (search, create, edit, block, CSV import); staff, roles and
    // the audit log.
    (
        subscribers::SubscribersApi,
        staff_access::StaffAccessApi,
        audit::AuditApi,
    ),
    // Incidents, ticket insights, desk tools, live updates and staff invitations: each module
    // registers its own APIs (`Apis`, a tuple when it has several).
    (
        incidents::Apis,
        ticket_insights::Apis,
        ticket_tools::Apis,
        ticket_live::Apis,
        invitations::Apis,
        // Auto-assignment, letter templates and SLA policies, custom domains, SaaS plans and
        // billing, operator support (impersonation, tenant deletion).
        (
            assignment::Apis,
            letters::Apis,
            domains::Apis,
            saas_plans::Apis,
            operator_support::Apis,
            stripe_connect::Apis,
        ),
        // Ticket categories, shift schedules, attachment storage, the catalogue editors,
        // tenant export and deletion, SaaS billing.
        (
            ticket_categories::Apis,
            shifts::Apis,
            storage_settings::Apis,
            catalogue::Apis,
            tenant_export::Apis,
            saas_billing::Apis,
            platform_metrics::Apis,
        ),
    ),
);

/// The `after` query parameter of a keyset-paginated list: absent, or a cursor this API issued
/// (`decode` turns it back into the page boundary; anything else is 400 `invalid_cursor`).
pub(crate) fn after_cursor<C>(
    raw: Option<&str>,
    decode: impl FnOnce(&str) -> Option<C>,
) -> Result<Option<C>, crate::problem::ApiError> {
    raw.map(|raw| {
        decode(raw).ok_or_else(|| {
            crate::problem::ApiError::bad_request(
                "invalid_cursor",
                "`after` is not a cursor this API issued",
            )
        })
    })
    .transpose()
}

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
        (
            subscribers::SubscribersApi,
            staff_access::StaffAccessApi,
            audit::AuditApi,
        ),
        (
            incidents::apis(),
            ticket_insights::apis(),
            ticket_tools::apis(),
            ticket_live::apis(),
            invitations::apis(),
            (
                assignment::apis(),
                letters::apis(),
                domains::apis(),
                saas_plans::apis(),
                operator_support::apis(),
                stripe_connect::apis(),
            ),
            (
                ticket_categories::apis(),
                shifts::apis(),
                storage_settings::apis(),
                catalogue::apis(),
                tenant_export::apis(),
                saas_billing::apis(),
                platform_metrics::apis(),
            ),
        ),
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
