//! Integration tests: real PostgreSQL (a fresh database each), the real app over HTTP.

mod auth;
mod bad_input;
mod billing;
mod isolation;
mod manifests;
mod payments;
mod schema;
mod sites;
mod tickets;
