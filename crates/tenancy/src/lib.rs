//! Tenancy: the ISPs on the platform, the hosts that lead to them, their branding and plan.
//!
//! Owns the `tenants` and `tenant_hosts` platform tables. [`Directory`] answers "which tenant is
//! this Host?" from a moka cache that every node drops when PostgreSQL announces a change.
//! Provisioning writes through [`upsert_tenant`]; the gateway reads through [`Directory`].

mod directory;
/// Custom domains: add, prove by DNS TXT, serve, remove.
pub mod domains;
mod lifecycle;
/// The operator's platform view: request rates, worker lag, data size per ISP.
pub mod metrics;
mod model;
pub mod plans;
mod repo;

pub use directory::{Directory, Site};
pub use lifecycle::{
    BrandingInvalid, BrandingUpdate, LOGO_MAX_BYTES, LogoChange, TenantOverview, TenantUsage,
    check_branding, publish_portal, record_usage, set_tenant_status, tenant_overview,
    update_branding,
};
pub use model::{Branding, Host, HostError, Locale, Slug, SlugError, Tenant, TenantStatus};
pub use plans::{PlanFeature, PlanFeatureMissing, PlanLimit, PlanLimitReached};
pub use repo::{
    TenancyError, TenantSpec, find_tenant_by_slug, list_tenants, tenant_hosts, upsert_tenant,
};
