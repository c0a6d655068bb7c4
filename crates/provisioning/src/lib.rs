//! Tenants as code. A manifest (`tenants/<slug>.toml`) declares an ISP — slug, name, hosts,
//! branding, plan, staff, tariffs, demo subscribers — and [`apply_dir`] makes the database
//! match it, idempotently, one transaction per tenant, through the domain crates' public
//! functions. `tenants/_platform.toml` declares the platform's operators.
//!
//! The signup wizard (console issue) builds the same [`Manifest`] and applies it the same way.
//! `export` is the inverse (database → manifest); `archive` and `deletion` are the end of a
//! tenant's life: a full-data export, then deletion after a grace period.

mod amount;
mod apply;
pub mod archive;
pub mod deletion;
mod diff;
pub mod domain_checks;
pub mod dunning;
pub mod export;
pub mod import;
mod manifest;
pub mod signup;

pub use amount::Amount;
pub use apply::{ApplyReport, apply, apply_dir, apply_platform};
pub use manifest::{
    Manifest, ManifestError, ParsedManifest, PlatformManifest, load_dir, parse_manifest,
    parse_platform_manifest,
};
