import { useTranslation } from "react-i18next";
import { useFormat } from "../../shared/i18n/format";
import { useTicketRatings } from "./analytics";
import "./analytics.css";

/** The subscriber's satisfaction ratings of this ticket, latest resolution first. */
export function TicketRatings({ ticketId, status }: { ticketId: string; status: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const ratings = useTicketRatings(ticketId, status);
  if (!ratings.data || ratings.data.length === 0) return null;
  return (
    <section className="ticket-ratings" data-testid="ticket-ratings" aria-label={t("insights.rating.staffTitle")}>
      <h3>{t("insights.rating.staffTitle")}</h3>
      <ul>
        {ratings.data.map((r) => (
          <li key={r.resolution_at} data-testid="ticket-rating">
            <span className="csat__stars" aria-label={t("insights.rating.scoreLabel", { score: r.score })}>
              {"★".repeat(r.score)}
              {"☆".repeat(5 - r.score)}
            </span>{" "}
            <span className="muted">
              {t("insights.rating.ratedAt", { at: format.dateTime(r.rated_at) })}
              {r.agent_name && ` · ${r.agent_name}`}
            </span>
            {r.comment && <p className="csat__comment">{r.comment}</p>}
          </li>
        ))}
      </ul>
    </section>
  );
}
