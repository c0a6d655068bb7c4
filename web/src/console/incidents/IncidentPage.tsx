import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useHasPermission } from "../subscribers/billing";
import { ProblemDetail } from "../subscribers/ProblemDetail";
import { AreaSummary } from "./IncidentsPage";
import {
  INCIDENTS_MANAGE,
  parseTicketNumbers,
  useCloseIncident,
  useIncident,
  useLinkTickets,
  usePostIncidentUpdate,
  useUnlinkTicket,
} from "./incidents";
import "./incidents.css";

/** One incident: what subscribers were told, whom it covers, linked tickets, updates, close. */
export function IncidentPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const { id = "" } = useParams();
  const detail = useIncident(id);
  const mayManage = useHasPermission(INCIDENTS_MANAGE);
  usePageTitle(detail.data?.incident.title ?? t("incidents.title"));

  if (detail.isPending) return <Loading />;
  if (detail.isError) return <ErrorNotice error={detail.error} />;
  const { incident, tickets, updates } = detail.data;
  const active = incident.closed_at === undefined;
  const manage = mayManage && active;

  return (
    <div className="stack incidents-page" data-testid="incident-page">
      <p>
        <Link to="/console/incidents">← {t("incidents.back")}</Link>
      </p>
      <header className="page-header">
        <h1 data-testid="incident-heading">{incident.title}</h1>
        <p>
          {active ? (
            <Badge tone="danger">{t("incidents.activeBadge")}</Badge>
          ) : (
            <Badge tone="success">{t("incidents.closedBadge")}</Badge>
          )}
        </p>
      </header>
      <section className="card">
        <dl className="incidents-facts">
          <div>
            <dt>{t("incidents.started")}</dt>
            <dd>{format.dateTime(incident.started_at)}</dd>
          </div>
          <div>
            <dt>{t("incidents.declaredBy")}</dt>
            <dd>{incident.declared_by}</dd>
          </div>
          <div>
            <dt>{t("incidents.area")}</dt>
            <dd>
              <AreaSummary item={incident} />
            </dd>
          </div>
          <div>
            <dt>{t("incidents.affected")}</dt>
            <dd data-testid="incident-affected">{incident.affected}</dd>
          </div>
          {incident.closed_at && (
            <div>
              <dt>{t("incidents.closedAt")}</dt>
              <dd data-testid="incident-closed-at">{format.dateTime(incident.closed_at)}</dd>
            </div>
          )}
        </dl>
        <h2 className="incidents-subtitle">{t("incidents.fieldMessage")}</h2>
        <p className="incidents-text">{incident.message}</p>
        {incident.close_message && <p className="incidents-text">{incident.close_message}</p>}
      </section>

      <section className="card table-card" aria-labelledby="incident-tickets-title">
        <div className="table-card__head">
          <h2 id="incident-tickets-title" className="table-card__title">
            {t("incidents.tickets")} ({tickets.length})
          </h2>
        </div>
        {manage && <LinkForm id={incident.id} />}
        {tickets.length === 0 ? (
          <p className="empty-state table-card__empty" data-testid="incident-tickets-empty">
            {t("incidents.ticketsEmpty")}
          </p>
        ) : (
          <TicketTable id={incident.id} tickets={tickets} manage={manage} />
        )}
      </section>

      <section className="card" aria-labelledby="incident-updates-title">
        <h2 id="incident-updates-title">{t("incidents.updates")}</h2>
        {manage && <UpdateForm id={incident.id} />}
        {updates.length === 0 ? (
          <p className="muted" data-testid="incident-updates-empty">
            {t("incidents.updatesEmpty")}
          </p>
        ) : (
          <ol className="incidents-updates" data-testid="incident-updates">
            {updates.map((u) => (
              <li key={u.id} data-testid="incident-update">
                <p className="muted">
                  {format.dateTime(u.created_at)} · {u.author}
                </p>
                <p className="incidents-text">{u.body}</p>
              </li>
            ))}
          </ol>
        )}
      </section>

      {manage && (
        <section className="card">
          <CloseForm id={incident.id} openTickets={tickets.filter((tk) => tk.status !== "resolved" && tk.status !== "closed").length} />
        </section>
      )}
    </div>
  );
}

type Detail = NonNullable<ReturnType<typeof useIncident>["data"]>;

function TicketTable({ id, tickets, manage }: { id: string; tickets: Detail["tickets"]; manage: boolean }) {
  const { t } = useTranslation();
  const unlink = useUnlinkTicket(id);
  return (
    <>
      {unlink.isError && <ErrorNotice error={unlink.error} />}
      <table className="data-table" data-testid="incident-tickets">
        <thead>
          <tr>
            <th scope="col">{t("incidents.ticket")}</th>
            <th scope="col">{t("incidents.subscriber")}</th>
            <th scope="col">{t("incidents.status")}</th>
            <th scope="col">
              <span className="visually-hidden">{t("billing.actions")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tickets.map((tk) => (
            <tr key={tk.id} data-testid="incident-ticket" data-ticket-number={tk.number}>
              <td className="data-table__primary">
                <Link to={`/console/tickets/${tk.id}`}>
                  #{tk.number} {tk.subject}
                </Link>
                {!tk.linked_by_staff && <span className="muted incidents-auto"> · {t("incidents.autoLinked")}</span>}
              </td>
              <td data-label={t("incidents.subscriber")}>
                <Link to={`/console/subscribers/${tk.account_number}`}>{tk.subscriber_name}</Link>
              </td>
              <td data-label={t("incidents.status")} data-testid="incident-ticket-status">
                {t(`ticket.statuses.${tk.status}`)}
              </td>
              <td>
                {manage && (
                  <button
                    type="button"
                    className="button button--small button--ghost"
                    disabled={unlink.isPending}
                    onClick={() => {
                      unlink.mutate(tk.id);
                    }}
                    data-testid="incident-unlink"
                  >
                    {t("incidents.unlink")}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function LinkForm({ id }: { id: string }) {
  const { t } = useTranslation();
  const inputId = useId();
  const link = useLinkTickets(id);
  const [raw, setRaw] = useState("");
  function submit(event: FormEvent) {
    event.preventDefault();
    const numbers = parseTicketNumbers(raw);
    if (numbers.length === 0) return;
    link.mutate(numbers, {
      onSuccess: () => {
        setRaw("");
      },
    });
  }
  return (
    <form className="form incidents-inline" onSubmit={submit} data-testid="incident-link-form">
      <div className="field">
        <label className="field__label" htmlFor={inputId}>
          {t("incidents.link")}
        </label>
        <input
          id={inputId}
          inputMode="numeric"
          placeholder={t("incidents.linkPlaceholder")}
          value={raw}
          onChange={(e) => {
            setRaw(e.target.value);
          }}
          data-testid="incident-link-input"
        />
      </div>
      <button type="submit" className="button" disabled={link.isPending} data-testid="incident-link-submit">
        {t("incidents.linkSubmit")}
      </button>
      {link.isError && <ProblemDetail error={link.error} />}
    </form>
  );
}

function UpdateForm({ id }: { id: string }) {
  const { t } = useTranslation();
  const inputId = useId();
  const post = usePostIncidentUpdate(id);
  const [body, setBody] = useState("");
  // One id per update being written: a retry after a network error is not a second post.
  const [requestId, setRequestId] = useState(() => crypto.randomUUID());
  const [reached, setReached] = useState<number>();
  function submit(event: FormEvent) {
    event.preventDefault();
    post.mutate(
      { requestId, body: body.trim() },
      {
        onSuccess: (result) => {
          setBody("");
          setRequestId(crypto.randomUUID());
          setReached(result.tickets_reached);
        },
      },
    );
  }
  return (
    <form className="form" onSubmit={submit} data-testid="incident-update-form">
      <div className="field">
        <label className="field__label" htmlFor={inputId}>
          {t("incidents.post")}
        </label>
        <textarea
          id={inputId}
          required
          rows={3}
          maxLength={5000}
          value={body}
          onChange={(e) => {
            setBody(e.target.value);
          }}
          data-testid="incident-update-body"
        />
        <p className="field__hint">{t("incidents.postHint")}</p>
      </div>
      {reached !== undefined && (
        <p className="notice notice--success" role="status" data-testid="incident-update-posted">
          {t("incidents.posted", { count: reached })}
        </p>
      )}
      {post.isError && <ProblemDetail error={post.error} />}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={post.isPending} data-testid="incident-update-submit">
          {t("incidents.postSubmit")}
        </button>
      </div>
    </form>
  );
}

function CloseForm({ id, openTickets }: { id: string; openTickets: number }) {
  const { t } = useTranslation();
  const inputId = useId();
  const close = useCloseIncident(id);
  const [message, setMessage] = useState("");
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!window.confirm(t("incidents.closeConfirm", { count: openTickets }))) return;
    close.mutate(message.trim() === "" ? null : message.trim());
  }
  return (
    <form className="form" onSubmit={submit} data-testid="incident-close-form">
      <h2>{t("incidents.close")}</h2>
      <div className="field">
        <label className="field__label" htmlFor={inputId}>
          {t("incidents.closeMessage")}
        </label>
        <textarea
          id={inputId}
          rows={2}
          maxLength={5000}
          value={message}
          onChange={(e) => {
            setMessage(e.target.value);
          }}
          data-testid="incident-close-message"
        />
        <p className="field__hint">{t("incidents.closeHint")}</p>
      </div>
      {close.isError && <ProblemDetail error={close.error} />}
      <div className="form__actions">
        <button type="submit" className="button button--danger" disabled={close.isPending} data-testid="incident-close">
          {t("incidents.closeSubmit")}
        </button>
      </div>
    </form>
  );
}
