import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, data } from "../../api/client";

/**
 * On a ticket the ISP merged into another of the subscriber's: where the conversation went.
 * Nothing otherwise.
 */
export function MergedNotice({ ticketId }: { ticketId: string }) {
  const { t } = useTranslation();
  const state = useQuery({
    queryKey: ["me", "tickets", ticketId, "merge"],
    queryFn: () => data(api.GET("/me/tickets/{id}/merge", { params: { path: { id: ticketId } } })),
  }).data;
  if (!state?.merged_into) return null;
  return (
    <p className="notice notice--info" data-testid="my-ticket-merged">
      {t("ticketTools.merge.subscriberNotice", { number: state.merged_into.number })}{" "}
      <Link to={`/tickets/${state.merged_into.id}`} data-testid="my-ticket-merged-link">
        {t("ticketTools.merge.subscriberLink", { number: state.merged_into.number })}
      </Link>
    </p>
  );
}
