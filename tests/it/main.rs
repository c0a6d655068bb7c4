//! Integration tests: real PostgreSQL (a fresh database each), the real app over HTTP.

mod auth;
mod bad_input;
mod isolation;
mod ledger;
mod manifests;
mod schema;
mod sites;
mod tickets;
