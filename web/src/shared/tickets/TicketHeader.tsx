import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { TicketSummary } from "../../api/types";
import { useFormat } from "../i18n/format";
import { useTicketCategories } from "./categories";
import { TicketStatusBadge } from "./TicketStatusBadge";

/** Number, subject, status and the facts about a ticket; `extra` adds area-specific facts. */
export function TicketHeader({
  ticket,
  audience,
  extra,
}: {
  ticket: TicketSummary;
  audience: "subscriber" | "staff";
  extra?: ReactNode;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const categories = useTicketCategories(audience);
  return (
    <header className="ticket-header">
      <p className="ticket-header__number">{t("ticket.number", { number: ticket.number })}</p>
      <h1 className="ticket-header__subject" data-testid="ticket-subject">
        {ticket.subject}
      </h1>
      <dl className="facts">
        <div>
          <dt>{t("ticket.status")}</dt>
          <dd>
            <TicketStatusBadge status={ticket.status} audience={audience} />
          </dd>
        </div>
        <div>
          <dt>{t("ticket.category")}</dt>
          <dd data-testid="ticket-category">{categories.name(ticket.category)}</dd>
        </div>
        <div>
          <dt>{t("ticket.created")}</dt>
          <dd>
            <time dateTime={ticket.created_at}>{format.dateTime(ticket.created_at)}</time>
          </dd>
        </div>
        {extra}
      </dl>
    </header>
  );
}
