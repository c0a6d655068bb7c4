import { useTranslation } from "react-i18next";
import type { ConsoleTicketDetail, TicketEvent } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { AttachmentList } from "../../shared/tickets/Attachments";
import type { TicketAttachment } from "../../shared/tickets/attachments";
import "../../shared/tickets/tickets.css";

type Entry =
  | { kind: "message"; at: string; item: ConsoleTicketDetail["messages"][number] }
  | { kind: "note"; at: string; item: ConsoleTicketDetail["notes"][number] }
  | { kind: "event"; at: string; item: TicketEvent };

/** One line of history in words: "Olga changed the status: Open → Resolved". */
function useEventText() {
  const { t } = useTranslation();
  const value = (event: TicketEvent, v: string | undefined) => {
    if (v === undefined) return "—";
    if (event.kind === "status") return t(`ticket.statuses.${v as "new"}`);
    if (event.kind === "priority") return t(`ticket.priorities.${v as "low"}`);
    return v;
  };
  return (event: TicketEvent) => {
    const who = event.actor_name ?? t("console.desk.system");
    const from = value(event, event.old_value);
    const to = value(event, event.new_value);
    switch (event.kind) {
      case "status":
        return t("console.desk.events.status", { who, from, to });
      case "priority":
        return t("console.desk.events.priority", { who, from, to });
      case "assignee":
        return event.new_value === undefined
          ? t("console.desk.events.unassigned", { who, from })
          : t("console.desk.events.assigned", { who, to });
      case "tag_added":
        return t("console.desk.events.tagAdded", { who, tag: to });
      case "tag_removed":
        return t("console.desk.events.tagRemoved", { who, tag: from });
      case "merged_into":
        return t("ticketTools.events.mergedInto", { who, number: to });
      case "merged_from":
        return t("ticketTools.events.mergedFrom", { who, number: from });
      case "rated":
        return t("console.desk.events.rated", { who, score: to });
      default:
        return t(`console.desk.events.${event.kind}`);
    }
  };
}

/** The staff thread: messages, internal notes and system lines in time order. */
export function DeskThread({ ticket }: { ticket: ConsoleTicketDetail }) {
  const { t } = useTranslation();
  const format = useFormat();
  const eventText = useEventText();
  const href = (a: TicketAttachment) => `/api/v1/console/tickets/${ticket.id}/attachments/${a.id}`;
  const entries: Entry[] = [
    ...ticket.messages.map((item): Entry => ({ kind: "message", at: item.created_at, item })),
    ...ticket.notes.map((item): Entry => ({ kind: "note", at: item.created_at, item })),
    ...ticket.events.map((item): Entry => ({ kind: "event", at: item.created_at, item })),
  ].sort((a, b) => a.at.localeCompare(b.at));

  return (
    <ol className="thread" aria-label={t("ticket.thread")} data-testid="ticket-thread">
      {entries.map((entry) => {
        if (entry.kind === "event") {
          const escalation = entry.item.kind.endsWith("_breach") || entry.item.kind.endsWith("_warning");
          return (
            <li
              key={entry.item.id}
              className={escalation ? "system-line system-line--alert" : "system-line"}
              data-testid="ticket-event"
              data-event-kind={entry.item.kind}
            >
              <span>{eventText(entry.item)}</span>
              <time dateTime={entry.at}>{format.dateTime(entry.at)}</time>
            </li>
          );
        }
        if (entry.kind === "note") {
          return (
            <li key={entry.item.id} className="message message--note" data-testid="ticket-note">
              <div className="message__meta">
                <span className="message__author">{entry.item.author_name}</span>
                <span className="note-label">{t("console.desk.internalNote")}</span>
                <time dateTime={entry.at}>{format.dateTime(entry.at)}</time>
              </div>
              <p className="message__body">{entry.item.body}</p>
              <AttachmentList attachments={entry.item.attachments} href={href} />
            </li>
          );
        }
        const mine = entry.item.author_kind === "staff";
        return (
          <li
            key={entry.item.id}
            className={mine ? "message message--mine" : "message"}
            data-testid="ticket-message"
            data-author-kind={entry.item.author_kind}
          >
            <div className="message__meta">
              <span className="message__author">{entry.item.author_name}</span>
              <time dateTime={entry.at}>{format.dateTime(entry.at)}</time>
            </div>
            <p className="message__body" data-testid="message-body">
              {entry.item.body}
            </p>
            <AttachmentList attachments={entry.item.attachments} href={href} />
          </li>
        );
      })}
    </ol>
  );
}
