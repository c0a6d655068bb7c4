import { useTranslation } from "react-i18next";
import type { paths } from "../../api/schema";
import { useFormat } from "../i18n/format";
import { Badge } from "../ui/Badge";
import { formatBytes } from "./bytes";

type Content<T> = T extends { content: infer C } ? C[keyof C] : never;
export type NetworkUsage = Content<paths["/me/network"]["get"]["responses"][200]>;

/** Sessions (online first) and traffic per day: the cabinet's and the console's view. */
export function NetworkUsageView({ usage }: { usage: NetworkUsage }) {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  const locale = i18n.resolvedLanguage ?? "en";
  return (
    <div className="stack" data-testid="network-usage">
      <div>
        <h3>{t("network.sessions")}</h3>
        {usage.sessions.length === 0 ? (
          <p className="muted" data-testid="network-sessions-empty">
            {t("network.noSessions")}
          </p>
        ) : (
          <table className="data-table" data-testid="network-sessions">
            <thead>
              <tr>
                <th scope="col">{t("network.state")}</th>
                <th scope="col">{t("network.since")}</th>
                <th scope="col">{t("network.ip")}</th>
                <th scope="col">{t("network.traffic")}</th>
              </tr>
            </thead>
            <tbody>
              {usage.sessions.map((s) => (
                <tr key={`${s.nas_id}/${s.acct_session_id}`} data-testid="network-session" data-state={s.state}>
                  <td className="data-table__primary">
                    <Badge tone={s.state === "open" ? "success" : "neutral"}>
                      {s.state === "open"
                        ? t("network.states.open")
                        : s.state === "stale"
                          ? t("network.states.stale")
                          : t("network.states.closed")}
                    </Badge>
                  </td>
                  <td data-label={t("network.since")}>
                    {format.dateTime(s.started_at)}
                    {s.stopped_at && <span className="muted"> → {format.dateTime(s.stopped_at)}</span>}
                  </td>
                  <td data-label={t("network.ip")}>{s.framed_ip ?? "—"}</td>
                  <td data-label={t("network.traffic")}>
                    ↓ {formatBytes(s.output_octets, locale)} · ↑ {formatBytes(s.input_octets, locale)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div>
        <h3>{t("network.perDay")}</h3>
        {usage.traffic.length === 0 ? (
          <p className="muted" data-testid="network-traffic-empty">
            {t("network.noTraffic")}
          </p>
        ) : (
          <table className="data-table" data-testid="network-traffic">
            <thead>
              <tr>
                <th scope="col">{t("network.day")}</th>
                <th scope="col">{t("network.download")}</th>
                <th scope="col">{t("network.upload")}</th>
              </tr>
            </thead>
            <tbody>
              {usage.traffic.map((d) => (
                <tr key={d.day} data-testid="network-traffic-day">
                  <td className="data-table__primary">{format.date(d.day)}</td>
                  <td data-label={t("network.download")}>{formatBytes(d.output_octets, locale)}</td>
                  <td data-label={t("network.upload")}>{formatBytes(d.input_octets, locale)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
