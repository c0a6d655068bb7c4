import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { useSession } from "../../shared/session/session";
import { useQueueTicketLive } from "../../shared/live";
import { usePageTitle } from "../../shared/site/site";
import { TicketHeader } from "../../shared/tickets/TicketHeader";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { TicketRatings } from "../analytics/TicketRatings";
import { BILLING_READ, useHasPermission } from "../subscribers/billing";
import { MergeBanner, MergePanel } from "../canned/TicketMerge";
import { Composer } from "./Composer";
import { DeskPanel } from "./DeskPanel";
import { DeskThread } from "./DeskThread";
import "./desk.css";
import { useConsoleTicket } from "./tickets";

const REPLY_PERMISSION = "tickets.reply";
const MANAGE_PERMISSION = "tickets.manage";

export function TicketViewPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const ticket = useConsoleTicket(id);
  useQueueTicketLive(id);
  usePageTitle(ticket.data?.subject);
  // Read-only roles may open tickets but not answer: the session lists the permissions, and
  // should they change meanwhile, the API still says so with 403.
  const mayReply = useSession().data?.permissions.includes(REPLY_PERMISSION) ?? false;
  const mayOpenBilling = useHasPermission(BILLING_READ);
  const mayManage = useHasPermission(MANAGE_PERMISSION);
  const forbidden = !mayReply;

  return (
    <div className="stack">
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
        <div className="desk">
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
            <MergeBanner ticketId={ticket.data.id} />
            <h2 className="visually-hidden">{t("ticket.thread")}</h2>
            <DeskThread ticket={ticket.data} />
            <TicketRatings ticketId={ticket.data.id} status={ticket.data.status} />
            {forbidden && (
              <p className="notice notice--warning" role="alert" data-testid="reply-forbidden">
                {t("console.ticket.replyForbidden")}
              </p>
            )}
            {!forbidden && (
              <Composer ticketId={ticket.data.id} mayReply={mayReply} closed={ticket.data.status === "closed"} />
            )}
            <MergePanel ticketId={ticket.data.id} mayManage={mayManage && ticket.data.status !== "closed"} />
          </article>
          <DeskPanel ticket={ticket.data} mayManage={mayManage} />
        </div>
      )}
    </div>
  );
}
