import { useId } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import {
  TICKET_STATUSES,
  type TicketPriority,
  type ConsoleTicketSummary,
  type TicketStatus,
} from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { useQueueLive } from "../../shared/live";
import { usePageTitle } from "../../shared/site/site";
import { useTicketCategories } from "../../shared/tickets/categories";
import { TicketStatusBadge } from "../../shared/tickets/TicketStatusBadge";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { ShiftToggle } from "../assignment/ShiftToggle";
import { TicketSearch } from "../kb/TicketSearch";
import { BILLING_READ, useHasPermission } from "../subscribers/billing";
import { TICKET_PRIORITIES, useTicketQueue, type QueueFilters } from "./tickets";
import "./desk.css";

function pick<T extends string>(options: readonly T[], value: string | null): T | undefined {
  return options.find((s) => s === value);
}

const ASSIGNEES = ["me", "unassigned"] as const;

/** The filters live in the URL so "back" from a ticket returns to the same view. */
function useQueueFilters(): [QueueFilters, (name: string, value: string) => void] {
  const [params, setParams] = useSearchParams();
  const filters: QueueFilters = {
    status: pick<TicketStatus>(TICKET_STATUSES, params.get("status")),
    priority: pick<TicketPriority>(TICKET_PRIORITIES, params.get("priority")),
    // Any well-formed code: the ISP's list decides what the select offers.
    category: /^[a-z][a-z0-9_]{1,39}$/.test(params.get("category") ?? "") ? (params.get("category") ?? undefined) : undefined,
    assignee: pick(ASSIGNEES, params.get("assignee")),
    tag: params.get("tag") ?? undefined,
    overdue: params.get("overdue") === "true",
  };
  const set = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value === "") next.delete(name);
    else next.set(name, value);
    setParams(next);
  };
  return [filters, set];
}

export function TicketQueuePage() {
  const { t } = useTranslation();
  const categories = useTicketCategories("staff");
  const format = useFormat();
  const ids = { status: useId(), priority: useId(), category: useId(), assignee: useId(), tag: useId() };
  usePageTitle(t("console.queue.title"));
  const [filters, setFilter] = useQueueFilters();
  const queue = useTicketQueue(filters);
  useQueueLive();
  const mayOpenBilling = useHasPermission(BILLING_READ);
  const tickets = queue.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="stack">
      <header className="page-header page-header--row">
        <h1>{t("console.queue.title")}</h1>
        <div className="queue-header-tools">
          <ShiftToggle />
          <Link to="/console/tickets/groups" className="queue-settings-link" data-testid="queue-groups">
            {t("assignment.nav")}
          </Link>
          <Link to="/console/tickets/settings" className="queue-settings-link" data-testid="queue-sla-settings">
            {t("console.sla.title")}
          </Link>
        </div>
      </header>
      <TicketSearch />
      <div className="queue-filters card" role="group" aria-label={t("console.queue.filters")}>
        <div className="filter">
          <label htmlFor={ids.assignee}>{t("console.desk.assignee")}</label>
          <select
            id={ids.assignee}
            value={filters.assignee ?? ""}
            onChange={(e) => {
              setFilter("assignee", e.target.value);
            }}
            data-testid="queue-assignee-filter"
          >
            <option value="">{t("console.queue.anyone")}</option>
            <option value="me">{t("console.queue.mine")}</option>
            <option value="unassigned">{t("console.queue.unassigned")}</option>
          </select>
        </div>
        <div className="filter">
          <label htmlFor={ids.status}>{t("console.queue.filter")}</label>
          <select
            id={ids.status}
            value={filters.status ?? ""}
            onChange={(e) => {
              setFilter("status", e.target.value);
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
        <div className="filter">
          <label htmlFor={ids.priority}>{t("ticket.priority")}</label>
          <select
            id={ids.priority}
            value={filters.priority ?? ""}
            onChange={(e) => {
              setFilter("priority", e.target.value);
            }}
            data-testid="queue-priority-filter"
          >
            <option value="">{t("console.queue.any")}</option>
            {TICKET_PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {t(`ticket.priorities.${p}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="filter">
          <label htmlFor={ids.category}>{t("ticket.category")}</label>
          <select
            id={ids.category}
            value={filters.category ?? ""}
            onChange={(e) => {
              setFilter("category", e.target.value);
            }}
            data-testid="queue-category-filter"
          >
            <option value="">{t("console.queue.any")}</option>
            {categories.all.map((c) => (
              <option key={c.code} value={c.code}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <form
          className="filter"
          onSubmit={(e) => {
            e.preventDefault();
            const value = new FormData(e.currentTarget).get("tag");
            setFilter("tag", typeof value === "string" ? value.trim() : "");
          }}
        >
          <label htmlFor={ids.tag}>{t("console.desk.tag")}</label>
          <input id={ids.tag} name="tag" defaultValue={filters.tag ?? ""} key={filters.tag ?? ""} data-testid="queue-tag-filter" />
        </form>
        <label className="filter filter--check">
          <input
            type="checkbox"
            checked={filters.overdue ?? false}
            onChange={(e) => {
              setFilter("overdue", e.target.checked ? "true" : "");
            }}
            data-testid="queue-overdue-filter"
          />
          {t("console.queue.overdueOnly")}
        </label>
      </div>

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
                <th scope="col">{t("ticket.priority")}</th>
                <th scope="col">{t("console.desk.assignee")}</th>
                <th scope="col">{t("console.queue.due")}</th>
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
                  <td data-label={t("ticket.category")}>{categories.name(ticket.category)}</td>
                  <td data-label={t("ticket.status")}>
                    <TicketStatusBadge status={ticket.status} />
                  </td>
                  <td data-label={t("ticket.priority")}>
                    <span className={`priority priority--${ticket.priority}`}>{t(`ticket.priorities.${ticket.priority}`)}</span>
                  </td>
                  <td data-label={t("console.desk.assignee")}>
                    {ticket.assignee?.display_name ?? <span className="muted">{t("console.desk.nobody")}</span>}
                  </td>
                  <td data-label={t("console.queue.due")}>
                    <QueueDue ticket={ticket} />
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

/** The next due time of a ticket that is with the ISP, flagged when it has passed. */
function QueueDue({ ticket }: { ticket: ConsoleTicketSummary }) {
  const { t } = useTranslation();
  const format = useFormat();
  if (ticket.sla.overdue) {
    return (
      <Badge tone="danger" testId="queue-overdue">
        {t("console.desk.overdue")}
      </Badge>
    );
  }
  if (ticket.status !== "new" && ticket.status !== "open") return <span className="muted">—</span>;
  const due = ticket.sla.first_responded_at ? ticket.sla.resolution_due_at : ticket.sla.first_response_due_at;
  return due ? <time dateTime={due}>{format.dateTime(due)}</time> : <span className="muted">—</span>;
}
