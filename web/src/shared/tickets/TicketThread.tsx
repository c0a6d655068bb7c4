import { useTranslation } from "react-i18next";
import type { TicketMessage } from "../../api/types";
import { useFormat } from "../i18n/format";
import { AttachmentList } from "./Attachments";
import type { TicketAttachment } from "./attachments";
import "./tickets.css";

/**
 * The conversation of one ticket. `viewer` decides which side is "mine": the subscriber's own
 * messages on the portal, the staff's on the console.
 */
export function TicketThread({
  messages,
  viewer,
  attachmentHref,
}: {
  messages: TicketMessage[];
  viewer: TicketMessage["author_kind"];
  /** The download URL of a file of this thread (the portal's or the console's). */
  attachmentHref?: (attachment: TicketAttachment) => string;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  if (messages.length === 0) return <p className="muted">{t("ticket.noMessages")}</p>;
  return (
    <ol className="thread" aria-label={t("ticket.thread")} data-testid="ticket-thread">
      {messages.map((message) => {
        const mine = message.author_kind === viewer;
        const author =
          viewer === "subscriber" && mine
            ? t("ticket.you")
            : message.author_kind === "staff" && viewer === "subscriber"
              ? `${message.author_name} · ${t("ticket.staff")}`
              : message.author_name;
        return (
          <li
            key={message.id}
            className={mine ? "message message--mine" : "message"}
            data-testid="ticket-message"
            data-author-kind={message.author_kind}
          >
            <div className="message__meta">
              <span className="message__author">{author}</span>
              <time dateTime={message.created_at}>{format.dateTime(message.created_at)}</time>
            </div>
            <p className="message__body" data-testid="message-body">
              {message.body}
            </p>
            {attachmentHref && <AttachmentList attachments={message.attachments} href={attachmentHref} />}
          </li>
        );
      })}
    </ol>
  );
}
