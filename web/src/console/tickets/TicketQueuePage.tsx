import { useId } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { TICKET_STATUSES, type TicketStatus } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { TicketStatusBadge } from "../../shared/tickets/TicketStatusBadge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { BILLING_READ, useHasPermission } from "../subscribers/billing";
import { useTicketQueue } from "./tickets";

function parseStatus(value: string | null): TicketStatus | undefined {
  return TICKET_STATUSES.find((s) => s === value);
}

export function TicketQueuePage() {
  const { t } = useTranslation();
  const format = useFormat();
  const filterId = useId();
  usePageTitle(t("console.queue.title"));
  // The filter lives in the URL so "back" from a ticket returns to the same view.
  const [params, setParams] = useSearchParams();
  const status = parseStatus(params.get("status"));
  const queue = useTicketQueue(status);
  const mayOpenBilling = useHasPermission(BILLING_READ);
  const tickets = queue.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="stack">
      <header className="page-header page-header--row">
        <h1>{t("console.queue.title")}</h1>
        <div className="filter">
          <label htmlFor={filterId}>{t("console.queue.filter")}</label>
          <select
            id={filterId}
            value={status ?? ""}
            onChange={(e) => {
              setParams(e.target.value ? { status: e.target.value } : {});
            }}
            data-testid="queue-status-filter"
          >
            <option value="">{t("console.queue.allStatuses")}</option>
            {TICKET_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`ticket.statuses.${s}`)}
              </option>
            ))}
          </select>
        </div>
      </header>

      {queue.isPending && <Loading />}
      {queue.isError && (
        <ErrorNotice
          error={queue.error}
          onRetry={() => {
            void queue.refetch();
          }}
        />
      )}
      {queue.isSuccess && tickets.length === 0 && (
        <p className="card empty-state" data-testid="queue-empty">
          {t("console.queue.empty")}
        </p>
      )}
      {tickets.length > 0 && (
        <div className="card table-card">
          <table className="data-table queue" data-testid="ticket-queue">
            <thead>
              <tr>
                <th scope="col">{t("console.queue.number")}</th>
                <th scope="col">{t("ticket.subject")}</th>
                <th scope="col">{t("console.queue.subscriber")}</th>
                <th scope="col">{t("ticket.category")}</th>
                <th scope="col">{t("ticket.status")}</th>
                <th scope="col">{t("ticket.updated")}</th>
              </tr>
            </thead>
            <tbody>
              {tickets.map((ticket) => (
                <tr key={ticket.id} data-testid="console-ticket-row" data-ticket-id={ticket.id}>
                  <td className="queue__number" data-prefix={t("console.queue.number")}>
                    {ticket.number}
                  </td>
                  <td className="data-table__primary">
                    <Link to={`/console/tickets/${ticket.id}`} data-testid="console-ticket-link">
                      {ticket.subject}
                    </Link>
                  </td>
                  <td data-label={t("console.queue.subscriber")}>
                    <span>
                      {ticket.subscriber_name}
                      <span className="muted">
                        {" · "}
                        {mayOpenBilling ? (
                          <Link
                            to={`/console/subscribers/${encodeURIComponent(ticket.account_number)}`}
                            title={t("console.subscriber.openBilling", { number: ticket.account_number })}
                          >
                            {ticket.account_number}
                          </Link>
                        ) : (
                          ticket.account_number
                        )}
                      </span>
                    </span>
                  </td>
                  <td data-label={t("ticket.category")}>{t(`ticket.categories.${ticket.category}`)}</td>
                  <td data-label={t("ticket.status")}>
                    <TicketStatusBadge status={ticket.status} />
                  </td>
                  <td data-label={t("ticket.updated")}>
                    <time dateTime={ticket.updated_at}>{format.dateTime(ticket.updated_at)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {queue.isSuccess && (
        <div className="queue__footer">
          <span className="muted">{t("console.queue.shown", { count: tickets.length })}</span>
          {queue.hasNextPage && (
            <button
              type="button"
              className="button"
              disabled={queue.isFetchingNextPage}
              onClick={() => {
                void queue.fetchNextPage();
              }}
              data-testid="queue-load-more"
            >
              {queue.isFetchingNextPage ? t("console.queue.loadingMore") : t("console.queue.loadMore")}
            </button>
          )}
        </div>
      )}
      {queue.isFetchNextPageError && <ErrorNotice error={queue.error} />}
    </div>
  );
}
