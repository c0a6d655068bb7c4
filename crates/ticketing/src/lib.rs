//! Support tickets ("билетики"): a subscriber opens one, staff work the queue and reply, both
//! follow the thread.
//!
//! Owns `tickets`, `ticket_messages`, `ticket_counters` and the agent desk's tables:
//! `ticket_events` (history, shown as system lines), `ticket_notes` (internal, staff only),
//! `ticket_tags`, `ticket_settings` and `ticket_sla_policies`. Subscriber-facing functions take
//! the subscriber's id and never return another subscriber's ticket, a note or an event;
//! staff-facing ones see the tenant's whole queue.
//!
//! Lifecycle: new → open → waiting on customer → resolved → closed ([`Status::can_move_to`]);
//! a subscriber's reply reopens a waiting or (within `reopen_days`) resolved ticket; the worker
//! closes resolved tickets after `auto_close_days`. SLA ([`sla`]): first-response and resolution
//! targets in business minutes per priority (and category), counted on the ISP's business hours
//! and holidays in its time zone, paused while the ticket waits on the customer or is resolved;
//! [`run_sla_escalations`] records warnings and breaches.
//!
//! Search ([`search`]): full-text over subjects, messages and (staff only) notes, Russian and
//! English in one `russian` configuration. The knowledge base ([`kb`], `kb_articles`) uses the
//! same engine; [`deflection`] records what the new-ticket form suggested and what it saved.
//!
//! Auto-assignment ([`assignment`], `agent_groups`, `agent_group_members`, `agent_shifts`): a
//! ticket is routed to a group by its category and handed to a member on shift, round-robin or
//! least-loaded, at creation, when shifts or groups change, and by the worker.

pub mod analytics;
/// Auto-assignment by group (skills = categories) and shift.
pub mod assignment;
pub mod attachment_limits;
pub mod attachment_sweeper;
pub mod attachments;
pub mod canned;
pub mod categories;
pub mod csat;
pub mod deflection;
pub mod incidents;
pub mod kb;
/// Per-ISP letter templates (ru/en) for the subscriber's ticket letters.
pub mod letters;
pub mod live;
pub mod merge;
mod model;
mod notifications;
mod repo;
pub mod search;
mod settings;
/// Agents' weekly shift schedules, applied by the worker.
pub mod shifts;
pub mod sla;
mod worker;

pub use model::{
    Actor, AssigneeFilter, Author, Category, CategoryKind, EventKind, NewTicket, Priority,
    QueueCursor, QueueFilter, QueuePage, SlaState, StaffRef, Status, TicketDetail, TicketEvent,
    TicketMessage, TicketNote, TicketSummary, normalize_tag,
};
pub use notifications::{
    Notification, NotificationKind, NotificationPage, mark_notifications_read,
    notifications_for_subscriber,
};
pub use repo::{
    TicketingError, add_note, add_staff_reply, add_subscriber_message, agents, assign,
    count_open_for_subscriber, create_ticket, get_for_staff, get_for_subscriber,
    list_for_subscriber, queue, reopen_for_subscriber, set_priority, set_status, set_tags,
    tags_in_use,
};
pub use settings::{DeskSettings, SlaPolicy, get_settings, put_settings};
pub use worker::{
    DeskReport, EscalationReport, auto_close_resolved, run_scheduled, run_sla_escalations,
};
