import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { useTicketCategories } from "../../shared/tickets/categories";
import { TicketStatusBadge } from "../../shared/tickets/TicketStatusBadge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useMyTickets } from "./tickets";
import "../../shared/tickets/tickets.css";

export function TicketListPage() {
  const { t } = useTranslation();
  const categories = useTicketCategories("subscriber");
  const format = useFormat();
  usePageTitle(t("portal.tickets.title"));
  const tickets = useMyTickets();

  return (
    <div className="stack">
      <header className="page-header page-header--row">
        <h1>{t("portal.tickets.title")}</h1>
        <Link to="/tickets/new" className="button button--primary" data-testid="new-ticket-link">
          {t("portal.tickets.new")}
        </Link>
      </header>

      {tickets.isPending && <Loading />}
      {tickets.isError && (
        <ErrorNotice
          error={tickets.error}
          onRetry={() => {
            void tickets.refetch();
          }}
        />
      )}
      {tickets.data && tickets.data.items.length === 0 && (
        <p className="card empty-state">{t("portal.tickets.empty")}</p>
      )}
      {tickets.data && tickets.data.items.length > 0 && (
        <ul className="ticket-list" data-testid="ticket-list">
          {tickets.data.items.map((ticket) => (
            <li key={ticket.id}>
              <Link
                to={`/tickets/${ticket.id}`}
                className="ticket-row card"
                data-testid="ticket-row"
                data-ticket-id={ticket.id}
              >
                <span className="ticket-row__number">{t("ticket.number", { number: ticket.number })}</span>
                <span className="ticket-row__subject" data-testid="ticket-row-subject">
                  {ticket.subject}
                </span>
                <span className="ticket-row__meta">
                  <span>{categories.name(ticket.category)}</span>
                  <time dateTime={ticket.updated_at}>{format.dateTime(ticket.updated_at)}</time>
                </span>
                <span className="ticket-row__status">
                  <TicketStatusBadge status={ticket.status} audience="subscriber" />
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
