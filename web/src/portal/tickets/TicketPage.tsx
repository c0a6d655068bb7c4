import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { usePageTitle } from "../../shared/site/site";
import { ReplyForm } from "../../shared/tickets/ReplyForm";
import { TicketHeader } from "../../shared/tickets/TicketHeader";
import { TicketThread } from "../../shared/tickets/TicketThread";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useMyTicket, useReplyToMyTicket } from "./tickets";

export function TicketPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const ticket = useMyTicket(id);
  const reply = useReplyToMyTicket(id);
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
          <TicketHeader ticket={ticket.data} audience="subscriber" />
          <h2 className="visually-hidden">{t("ticket.thread")}</h2>
          <TicketThread messages={ticket.data.messages} viewer="subscriber" />
          <ReplyForm
            pending={reply.isPending}
            error={reply.error}
            onSubmit={(body, done) => {
              reply.mutate(body, { onSuccess: done });
            }}
          />
        </article>
      )}
    </div>
  );
}
