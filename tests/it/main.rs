//! Integration tests: real PostgreSQL (a fresh database each), the real app over HTTP.

mod auth;
mod bad_input;
mod billing;
mod equipment;
mod isolation;
mod manifests;
mod news;
mod password_reset;
mod payments;
mod schema;
mod sites;
mod ticket_desk;
mod tickets;
mod two_factor;
