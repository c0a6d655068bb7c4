import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { usePageTitle } from "../../shared/site/site";
import { ReplyForm } from "../../shared/tickets/ReplyForm";
import { TicketHeader } from "../../shared/tickets/TicketHeader";
import { TicketThread } from "../../shared/tickets/TicketThread";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useFormat } from "../../shared/i18n/format";
import { useMyTicketLive } from "../../shared/live";
import { useMyAttachmentLimits } from "./attachmentLimits";
import { useMyTicket, useReopenMyTicket, useReplyToMyTicket } from "./tickets";
import { TicketRating } from "./TicketRating";
import { MergedNotice } from "./MergedNotice";

export function TicketPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const ticket = useMyTicket(id);
  useMyTicketLive(id);
  const reply = useReplyToMyTicket(id);
  const limits = useMyAttachmentLimits();
  const reopen = useReopenMyTicket(id);
  const format = useFormat();
  usePageTitle(ticket.data?.subject);

  return (
    <div className="stack narrow">
      <Link to="/tickets" className="back-link">
        ← {t("portal.tickets.backToList")}
      </Link>
      {ticket.isPending && <Loading />}
      {ticket.isError && (
        <ErrorNotice
          error={ticket.error}
          onRetry={() => {
            void ticket.refetch();
          }}
        />
      )}
      {ticket.data && (
        <article className="card ticket" data-testid="ticket" data-ticket-id={ticket.data.id}>
          <TicketHeader
            ticket={ticket.data}
            audience="subscriber"
            extra={
              <>
                <div>
                  <dt>{t("portal.tickets.handledBy")}</dt>
                  <dd data-testid="ticket-agent">{ticket.data.agent_name ?? t("portal.tickets.notYetAssigned")}</dd>
                </div>
                {ticket.data.answer_due_at && (
                  <div>
                    <dt>{t("portal.tickets.answerExpected")}</dt>
                    <dd data-testid="ticket-answer-due">
                      <time dateTime={ticket.data.answer_due_at}>{format.dateTime(ticket.data.answer_due_at)}</time>
                    </dd>
                  </div>
                )}
              </>
            }
          />
          <MergedNotice ticketId={id} />
          <h2 className="visually-hidden">{t("ticket.thread")}</h2>
          <TicketThread
            messages={ticket.data.messages}
            viewer="subscriber"
            attachmentHref={(a) => `/api/v1/me/tickets/${id}/attachments/${a.id}`}
          />
          <TicketRating ticketId={id} status={ticket.data.status} />
          {ticket.data.status === "resolved" && ticket.data.reopen_until && (
            <div className="notice notice--info reopen" data-testid="ticket-reopen">
              <p>{t("portal.tickets.resolvedNotice", { until: format.dateTime(ticket.data.reopen_until) })}</p>
              <button
                type="button"
                className="button"
                disabled={reopen.isPending}
                onClick={() => {
                  reopen.mutate();
                }}
                data-testid="ticket-reopen-button"
              >
                {t("portal.tickets.reopen")}
              </button>
              {reopen.error != null && <ErrorNotice error={reopen.error} />}
            </div>
          )}
          {ticket.data.status === "closed" ? (
            <p className="notice" data-testid="ticket-closed">
              {t("portal.tickets.closedNotice")} <Link to="/tickets/new">{t("portal.tickets.new")}</Link>
            </p>
          ) : (
            <ReplyForm
              limits={limits}
              pending={reply.isPending}
              error={reply.error}
              onSubmit={(body, files, done) => {
                reply.mutate({ body, files }, { onSuccess: done });
              }}
            />
          )}
        </article>
      )}
    </div>
  );
}
