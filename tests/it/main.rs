//! Integration tests: real PostgreSQL (a fresh database each), the real app over HTTP.

mod attachments;
mod audit_log;
mod auth;
mod bad_input;
mod billing;
mod equipment;
mod isolation;
mod manifests;
mod news;
mod password_reset;
mod payments;
mod radius;
mod roles_matrix;
mod schema;
mod signup;
mod sites;
mod staff_roles;
mod subscriber_import;
mod ticket_desk;
mod ticket_notifications;
mod ticket_search;
mod tickets;
mod two_factor;
