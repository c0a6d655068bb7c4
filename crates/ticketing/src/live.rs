//! Live ticket updates across nodes (PostgreSQL LISTEN/NOTIFY) for the SSE streams.
//!
//! Triggers (migration `ticket_live`) announce every committed change of a ticket on
//! [`CHANNEL`]: a new ticket, a status change, a message, a note, a desk event, a file. Each
//! node runs one [`LiveHub`]: a single LISTEN connection fanned out through a broadcast channel
//! to the node's open streams, so a change made through any node reaches every stream. An event
//! carries ids and a kind only — never text — and the client refetches through its normal,
//! authorized API. After the LISTEN connection was lost (events may have been missed), or when a
//! slow stream falls behind, the stream gets [`Update::Resync`]: refetch everything shown.
//!
//! Who sees what ([`Audience::sees`]): a subscriber only their own tickets in their ISP and
//! never anything internal (notes, their files, desk events); staff the ISP's whole desk.

use std::time::Duration;

use kabinet_core::{SubscriberId, TenantId, TicketId};
use kabinet_db::{Database, TenantTx, sqlx};
use serde_json::Value;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::repo::TicketingError;

/// The NOTIFY channel the triggers announce ticket changes on.
pub const CHANNEL: &str = "kabinet_tickets";

/// How many signals a slow stream may fall behind before it is told to resync.
const BUFFER: usize = 1024;
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What happened to a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveKind {
    /// A new ticket.
    Created,
    Status,
    /// A public message (either side).
    Message,
    /// An internal note (staff only).
    Note,
    /// A desk event: priority, assignee, tags, SLA warnings (staff only).
    Event,
    /// A file on a message, or on a note (then internal).
    Attachment,
}

impl LiveKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Status => "status",
            Self::Message => "message",
            Self::Note => "note",
            Self::Event => "event",
            Self::Attachment => "attachment",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "created" => Self::Created,
            "status" => Self::Status,
            "message" => Self::Message,
            "note" => Self::Note,
            "event" => Self::Event,
            "attachment" => Self::Attachment,
            _ => return None,
        })
    }
}

/// One committed change, as a trigger announced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveEvent {
    pub tenant: TenantId,
    pub ticket: TicketId,
    pub subscriber: SubscriberId,
    pub kind: LiveKind,
    /// Staff only: never sent to a subscriber.
    pub internal: bool,
}

impl LiveEvent {
    /// Reads a NOTIFY payload; `None` for anything malformed.
    pub fn parse(payload: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(payload).ok()?;
        let id = |key: &str| v.get(key)?.as_str()?.parse::<Uuid>().ok();
        Some(Self {
            tenant: TenantId(id("tenant_id")?),
            ticket: TicketId(id("ticket_id")?),
            subscriber: SubscriberId(id("subscriber_id")?),
            kind: LiveKind::parse(v.get("kind")?.as_str()?)?,
            internal: v.get("internal")?.as_bool()?,
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum Signal {
    Event(LiveEvent),
    /// The LISTEN connection was re-established: events may have been missed.
    Resync,
}

/// Whom a stream is for, and how much of the ISP's desk it covers.
#[derive(Clone, Copy, Debug)]
pub enum Audience {
    /// A subscriber: one of their tickets, or (`None`) all of them.
    Subscriber {
        tenant: TenantId,
        subscriber: SubscriberId,
        ticket: Option<TicketId>,
    },
    /// Staff with `tickets.read`: one ticket, or (`None`) the whole queue.
    Staff {
        tenant: TenantId,
        ticket: Option<TicketId>,
    },
}

impl Audience {
    pub fn tenant(&self) -> TenantId {
        match self {
            Self::Subscriber { tenant, .. } | Self::Staff { tenant, .. } => *tenant,
        }
    }

    fn ticket(&self) -> Option<TicketId> {
        match self {
            Self::Subscriber { ticket, .. } | Self::Staff { ticket, .. } => *ticket,
        }
    }

    /// Whether this stream may carry `event`. A subscriber never sees an internal event.
    pub fn sees(&self, event: &LiveEvent) -> bool {
        if event.tenant != self.tenant() || self.ticket().is_some_and(|t| t != event.ticket) {
            return false;
        }
        match self {
            Self::Subscriber { subscriber, .. } => {
                !event.internal && event.subscriber == *subscriber
            }
            Self::Staff { .. } => true,
        }
    }
}

/// Checks, inside the caller's tenant transaction (row-level security), that the audience may
/// follow its ticket: a subscriber only their own, staff any of the ISP's. Someone else's or
/// another ISP's ticket is [`TicketingError::NotFound`]. The caller has already checked staff
/// permissions.
pub async fn authorize(tx: &mut TenantTx, audience: &Audience) -> Result<(), TicketingError> {
    let tenant = tx.tenant();
    if audience.tenant() != tenant {
        return Err(TicketingError::NotFound);
    }
    let found = match *audience {
        Audience::Subscriber {
            ticket: Some(ticket),
            subscriber,
            ..
        } => {
            sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM tickets \
                 WHERE tenant_id = $1 AND id = $2 AND subscriber_id = $3)",
            )
            .bind(tenant.as_uuid())
            .bind(ticket.0)
            .bind(subscriber.0)
            .fetch_one(tx.conn())
            .await?
        }
        Audience::Staff {
            ticket: Some(ticket),
            ..
        } => {
            sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM tickets WHERE tenant_id = $1 AND id = $2)",
            )
            .bind(tenant.as_uuid())
            .bind(ticket.0)
            .fetch_one(tx.conn())
            .await?
        }
        Audience::Subscriber { ticket: None, .. } | Audience::Staff { ticket: None, .. } => true,
    };
    if found {
        Ok(())
    } else {
        Err(TicketingError::NotFound)
    }
}

/// What a stream delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    Changed {
        ticket: TicketId,
        kind: LiveKind,
    },
    /// Updates may have been missed: refetch everything shown.
    Resync,
}

/// The node's fan-out of ticket changes. Cheap to clone.
#[derive(Clone)]
pub struct LiveHub {
    db: Database,
    sender: broadcast::Sender<Signal>,
}

impl LiveHub {
    pub fn new(db: Database) -> Self {
        let (sender, _) = broadcast::channel(BUFFER);
        Self { db, sender }
    }

    /// A stream of the updates `audience` may see, from now on. Authorize first ([`authorize`]).
    pub fn subscribe(&self, audience: Audience) -> LiveStream {
        LiveStream {
            receiver: self.sender.subscribe(),
            audience,
        }
    }

    /// The node's one LISTEN connection. Reconnects with backoff; after a reconnect every
    /// stream is told to resync. Runs until the process ends.
    pub fn spawn_listener(&self) -> tokio::task::JoinHandle<()> {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(500);
            let mut reconnect = false;
            loop {
                match hub.db.listener(&[CHANNEL]).await {
                    Ok(mut listener) => {
                        backoff = Duration::from_millis(500);
                        if reconnect {
                            // Nobody listening is not an error.
                            let _ = hub.sender.send(Signal::Resync);
                        }
                        reconnect = true;
                        loop {
                            match listener.try_recv().await {
                                Ok(Some(n)) => match LiveEvent::parse(n.payload()) {
                                    Some(event) => {
                                        let _ = hub.sender.send(Signal::Event(event));
                                    }
                                    None => tracing::warn!(
                                        payload = n.payload(),
                                        "malformed ticket live payload"
                                    ),
                                },
                                Ok(None) => {
                                    tracing::warn!("ticket live listener lost its connection");
                                    break;
                                }
                                Err(e) => {
                                    tracing::warn!(error = %e, "ticket live listener failed");
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for ticket changes; retrying");
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        })
    }
}

/// One SSE stream's view of the hub.
pub struct LiveStream {
    receiver: broadcast::Receiver<Signal>,
    audience: Audience,
}

impl LiveStream {
    /// The next update this stream may see; `None` when the hub is gone.
    pub async fn next(&mut self) -> Option<Update> {
        loop {
            match self.receiver.recv().await {
                Ok(Signal::Event(event)) if self.audience.sees(&event) => {
                    return Some(Update::Changed {
                        ticket: event.ticket,
                        kind: event.kind,
                    });
                }
                Ok(Signal::Event(_)) => {}
                Ok(Signal::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Some(Update::Resync);
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(tenant: Uuid, subscriber: Uuid, ticket: Uuid, internal: bool) -> LiveEvent {
        LiveEvent {
            tenant: TenantId(tenant),
            ticket: TicketId(ticket),
            subscriber: SubscriberId(subscriber),
            kind: if internal {
                LiveKind::Note
            } else {
                LiveKind::Message
            },
            internal,
        }
    }

    #[test]
    fn parses_the_trigger_payload_and_refuses_anything_else() {
        let (t, k, s) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let payload = format!(
            r#"{{"tenant_id" : "{t}", "ticket_id" : "{k}", "subscriber_id" : "{s}", "kind" : "note", "internal" : true}}"#
        );
        assert_eq!(
            LiveEvent::parse(&payload),
            Some(LiveEvent {
                tenant: TenantId(t),
                ticket: TicketId(k),
                subscriber: SubscriberId(s),
                kind: LiveKind::Note,
                internal: true,
            })
        );
        assert_eq!(LiveEvent::parse(""), None);
        assert_eq!(LiveEvent::parse(&payload.replace("note", "gossip")), None);
        assert_eq!(
            LiveEvent::parse(&payload.replace(&k.to_string(), "x")),
            None
        );
    }

    #[test]
    fn a_subscriber_sees_only_public_events_of_their_own_tickets() {
        let (t, other_t, me, other, k) = (
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let all = Audience::Subscriber {
            tenant: TenantId(t),
            subscriber: SubscriberId(me),
            ticket: None,
        };
        let one = Audience::Subscriber {
            tenant: TenantId(t),
            subscriber: SubscriberId(me),
            ticket: Some(TicketId(k)),
        };
        assert!(all.sees(&event(t, me, k, false)));
        assert!(one.sees(&event(t, me, k, false)));
        assert!(!one.sees(&event(t, me, Uuid::new_v4(), false)));
        assert!(!all.sees(&event(t, me, k, true)), "internal");
        assert!(!all.sees(&event(t, other, k, false)), "someone else's");
        assert!(!all.sees(&event(other_t, me, k, false)), "another ISP");
    }

    #[test]
    fn staff_see_their_isps_desk_including_internal_events() {
        let (t, s, k) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let queue = Audience::Staff {
            tenant: TenantId(t),
            ticket: None,
        };
        let one = Audience::Staff {
            tenant: TenantId(t),
            ticket: Some(TicketId(k)),
        };
        assert!(queue.sees(&event(t, s, k, true)));
        assert!(queue.sees(&event(t, s, Uuid::new_v4(), false)));
        assert!(one.sees(&event(t, s, k, true)));
        assert!(!one.sees(&event(t, s, Uuid::new_v4(), true)));
        assert!(!queue.sees(&event(Uuid::new_v4(), s, k, false)));
    }
}
