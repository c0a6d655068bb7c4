import { useTranslation } from "react-i18next";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { STAFF_MANAGE } from "../staff/staff";
import { useHasPermission } from "../subscribers/billing";
import { type Visit, useEndVisit, useVisits } from "./impersonation";
import "./impersonation.css";

/** The owner's list of the platform operators' support visits: who, why, when, until, how it ended. */
export function ImpersonationsPage() {
  const { t } = useTranslation();
  const format = useFormat();
  usePageTitle(t("operatorSupport.list.title"));
  const visits = useVisits();
  const end = useEndVisit();
  const mayEnd = useHasPermission(STAFF_MANAGE);

  const state = (visit: Visit) => {
    if (visit.active) return <Badge tone="warning">{t("operatorSupport.list.active")}</Badge>;
    if (visit.ended_by) return <Badge tone="neutral">{t(`operatorSupport.list.endedBy.${visit.ended_by}`)}</Badge>;
    return <Badge tone="neutral">{t("operatorSupport.list.expired")}</Badge>;
  };

  return (
    <div className="stack">
      <header className="page-header">
        <h1>{t("operatorSupport.list.title")}</h1>
        <p className="muted">{t("operatorSupport.list.explain")}</p>
      </header>
      {visits.isPending && <Loading />}
      {visits.isError && <ErrorNotice error={visits.error} />}
      {end.isError && <ErrorNotice error={end.error} />}
      {visits.data && visits.data.items.length === 0 && (
        <p className="card empty-state">{t("operatorSupport.list.empty")}</p>
      )}
      {visits.data && visits.data.items.length > 0 && (
        <div className="card table-card">
          <table className="data-table" data-testid="impersonation-table">
            <thead>
              <tr>
                <th scope="col">{t("operatorSupport.list.operator")}</th>
                <th scope="col">{t("operatorSupport.list.reason")}</th>
                <th scope="col">{t("operatorSupport.list.when")}</th>
                <th scope="col">{t("operatorSupport.list.until")}</th>
                <th scope="col">{t("operatorSupport.list.state")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("operatorSupport.list.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {visits.data.items.map((visit) => (
                <tr key={visit.id} data-testid="impersonation-row" data-active={visit.active}>
                  <td className="data-table__primary">
                    {visit.operator_name}
                    <div className="muted">{t(`operatorSupport.access.${visit.access}`)}</div>
                  </td>
                  <td data-label={t("operatorSupport.list.reason")} data-testid="impersonation-reason">
                    {visit.reason}
                  </td>
                  <td data-label={t("operatorSupport.list.when")}>{format.dateTime(visit.created_at)}</td>
                  <td data-label={t("operatorSupport.list.until")}>
                    {format.dateTime(visit.ended_at ?? visit.expires_at)}
                  </td>
                  <td data-label={t("operatorSupport.list.state")} data-testid="impersonation-state">
                    {state(visit)}
                  </td>
                  <td>
                    {visit.active && mayEnd && (
                      <button
                        type="button"
                        className="button button--ghost button--small"
                        disabled={end.isPending}
                        onClick={() => {
                          end.mutate(visit.id);
                        }}
                        data-testid="impersonation-end-visit"
                      >
                        {t("operatorSupport.list.end")}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
