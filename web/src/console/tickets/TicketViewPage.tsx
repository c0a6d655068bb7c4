import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { ApiError } from "../../api/client";
import { useSession } from "../../shared/session/session";
import { usePageTitle } from "../../shared/site/site";
import { ReplyForm } from "../../shared/tickets/ReplyForm";
import { TicketHeader } from "../../shared/tickets/TicketHeader";
import { TicketThread } from "../../shared/tickets/TicketThread";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { BILLING_READ, useHasPermission } from "../subscribers/billing";
import { useConsoleTicket, useReplyToTicket } from "./tickets";

const REPLY_PERMISSION = "tickets.reply";

export function TicketViewPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const ticket = useConsoleTicket(id);
  const reply = useReplyToTicket(id);
  usePageTitle(ticket.data?.subject);
  // Read-only roles may open tickets but not answer: the session lists the permissions, and
  // should they change meanwhile, the API still says so with 403.
  const mayReply = useSession().data?.permissions.includes(REPLY_PERMISSION) ?? false;
  const mayOpenBilling = useHasPermission(BILLING_READ);
  const forbidden = !mayReply || (reply.error instanceof ApiError && reply.error.status === 403);

  return (
    <div className="stack narrow">
      <Link to="/console/tickets" className="back-link">
        ← {t("console.queue.backToQueue")}
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
            audience="staff"
            extra={
              <div>
                <dt>{t("console.ticket.subscriber")}</dt>
                <dd>
                  {mayOpenBilling ? (
                    <Link
                      to={`/console/subscribers/${encodeURIComponent(ticket.data.account_number)}`}
                      title={t("console.subscriber.openBilling", { number: ticket.data.account_number })}
                      data-testid="ticket-subscriber-link"
                    >
                      <span data-testid="ticket-subscriber-name">{ticket.data.subscriber_name}</span>
                      {" · "}
                      <span data-testid="ticket-account-number">{ticket.data.account_number}</span>
                    </Link>
                  ) : (
                    <>
                      <span data-testid="ticket-subscriber-name">{ticket.data.subscriber_name}</span>
                      <span className="muted">
                        {" · "}
                        <span data-testid="ticket-account-number">{ticket.data.account_number}</span>
                      </span>
                    </>
                  )}
                </dd>
              </div>
            }
          />
          <h2 className="visually-hidden">{t("ticket.thread")}</h2>
          <TicketThread messages={ticket.data.messages} viewer="staff" />
          {forbidden && (
            <p className="notice notice--warning" role="alert" data-testid="reply-forbidden">
              {t("console.ticket.replyForbidden")}
            </p>
          )}
          {!forbidden && (
            <ReplyForm
              pending={reply.isPending}
              error={reply.error}
              onSubmit={(body, done) => {
                reply.mutate(body, { onSuccess: done });
              }}
            />
          )}
        </article>
      )}
    </div>
  );
}
