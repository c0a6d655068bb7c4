//! Support tickets ("билетики"): a subscriber opens one, staff work the queue and reply, both
//! follow the thread.
//!
//! Owns `tickets`, `ticket_messages` and `ticket_counters`. Subscriber-facing functions take the
//! subscriber's id and never return another subscriber's ticket; staff-facing ones see the
//! tenant's whole queue. (The ticketing issue adds SLA, notes, attachments, search, analytics.)

mod model;
mod repo;

pub use model::{
    Author, Category, NewTicket, QueueCursor, QueueFilter, QueuePage, Status, TicketDetail,
    TicketMessage, TicketSummary,
};
pub use repo::{
    TicketingError, add_staff_reply, add_subscriber_message, count_open_for_subscriber,
    create_ticket, get_for_staff, get_for_subscriber, list_for_subscriber, queue,
};
