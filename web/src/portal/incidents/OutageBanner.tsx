import { useTranslation } from "react-i18next";
import { useFormat } from "../../shared/i18n/format";
import { useMyIncidents } from "./incidents";
import "./incidents.css";

/** On the dashboard: each declared outage covering the subscriber, with staff's latest news. */
export function OutageBanner() {
  const { t } = useTranslation();
  const format = useFormat();
  // An extra: should it fail, the dashboard just shows less.
  const items = useMyIncidents().data?.items ?? [];
  return (
    <>
      {items.map((outage) => (
        <section
          key={outage.id}
          className="callout callout--warning"
          aria-labelledby={`outage-${outage.id}`}
          data-testid="dashboard-outage"
        >
          <div className="callout__body">
            <h2 id={`outage-${outage.id}`}>{t("incidents.portalTitle", { title: outage.title })}</h2>
            <p className="muted">{t("incidents.portalSince", { date: format.dateTime(outage.started_at) })}</p>
            <p className="incidents-portal-text">{outage.message}</p>
            {outage.latest_update && outage.updated_at && (
              <p className="incidents-portal-text" data-testid="dashboard-outage-update">
                <strong>{t("incidents.portalLatest", { date: format.dateTime(outage.updated_at) })}</strong>{" "}
                {outage.latest_update}
              </p>
            )}
            <p>{t("incidents.portalNoNeed")}</p>
          </div>
        </section>
      ))}
    </>
  );
}
