import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import type { components } from "../../api/schema";
import { formatBytes } from "../../console/plan/plan";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import "./metrics.css";

type PlatformView = components["schemas"]["PlatformView"];
type TrafficMinute = PlatformView["per_minute"][number];
type WorkerRow = PlatformView["workers"][number];

const WINDOWS = [60, 360, 1440, 10080] as const;
/** A worker whose last pass is older than this is shown as late (the scheduler runs hourly). */
const LATE_SECONDS: Record<WorkerRow["worker"], number> = {
  billing: 2 * 3600,
  mail: 600,
  network: 600,
  reconcile: 2 * 3600,
};

/**
 * The operator's platform view: request and error rates, each background worker's lag, and each
 * ISP's traffic, data size and queues. Refreshes every 15 seconds.
 */
export function PlatformMetricsPage() {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  usePageTitle(t("platform.metrics.title"));
  const [minutes, setMinutes] = useState<(typeof WINDOWS)[number]>(60);
  const metrics = useQuery({
    queryKey: ["platform", "metrics", minutes],
    queryFn: () => data(api.GET("/platform/metrics", { params: { query: { minutes } } })),
    refetchInterval: 15_000,
  });
  const percent = (share: number) =>
    new Intl.NumberFormat(i18n.language, { style: "percent", maximumFractionDigits: 2 }).format(share);
  const rate = (perSecond: number) =>
    new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 2 }).format(perSecond);

  return (
    <div className="stack platform-metrics">
      <header className="page-header metrics-header">
        <h1>{t("platform.metrics.title")}</h1>
        <div className="segmented" role="group" aria-label={t("platform.metrics.window")}>
          {WINDOWS.map((w) => (
            <button
              key={w}
              type="button"
              className={`button button--small${w === minutes ? "" : " button--ghost"}`}
              aria-pressed={w === minutes}
              onClick={() => {
                setMinutes(w);
              }}
              data-testid={`metrics-window-${w}`}
            >
              {t(`platform.metrics.windows.${w}`)}
            </button>
          ))}
        </div>
      </header>
      {metrics.isPending && <Loading />}
      {metrics.isError && (
        <ErrorNotice
          error={metrics.error}
          onRetry={() => {
            void metrics.refetch();
          }}
        />
      )}
      {metrics.data && (
        <>
          <section className="metrics-tiles" aria-label={t("platform.metrics.summary")}>
            <div className="card metrics-tile" data-testid="metrics-requests">
              <span className="muted">{t("platform.metrics.requests")}</span>
              <strong>{format.number(metrics.data.requests)}</strong>
              <span className="muted">{t("platform.metrics.perSecond", { rate: rate(metrics.data.request_rate) })}</span>
            </div>
            <div className="card metrics-tile" data-testid="metrics-errors">
              <span className="muted">{t("platform.metrics.serverErrors")}</span>
              <strong>{format.number(metrics.data.server_errors)}</strong>
              <span className="muted">{percent(metrics.data.error_rate)}</span>
            </div>
            <div className="card metrics-tile">
              <span className="muted">{t("platform.metrics.clientErrors")}</span>
              <strong>{format.number(metrics.data.client_errors)}</strong>
            </div>
            <div className="card metrics-tile" data-testid="metrics-database">
              <span className="muted">{t("platform.metrics.database")}</span>
              <strong>{formatBytes(metrics.data.database_bytes, i18n.language)}</strong>
            </div>
          </section>
          <TrafficChart minutes={metrics.data.per_minute} />
          <section className="card stack" aria-labelledby="metrics-workers">
            <h2 id="metrics-workers">{t("platform.metrics.workers")}</h2>
            {metrics.data.workers.length === 0 ? (
              <p className="muted">{t("platform.metrics.noWorkers")}</p>
            ) : (
              <ul className="plain-list metrics-workers" data-testid="metrics-workers">
                {metrics.data.workers.map((w) => (
                  <li key={w.worker} data-testid="metrics-worker" data-worker={w.worker}>
                    <strong>{t(`platform.metrics.worker.${w.worker}`)}</strong>
                    <span className="muted">
                      {t("platform.metrics.lastPass", { ago: format.ago(w.finished_at) ?? "", nodes: w.nodes })}
                    </span>
                    {w.lag_seconds > LATE_SECONDS[w.worker] ? (
                      <Badge tone="danger">{t("platform.metrics.late")}</Badge>
                    ) : w.failures > 0 ? (
                      <Badge tone="warning">{t("platform.metrics.failures", { count: w.failures })}</Badge>
                    ) : (
                      <Badge tone="success">{t("platform.metrics.onTime")}</Badge>
                    )}
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section className="card table-card metrics-table" aria-labelledby="metrics-tenants">
            <h2 id="metrics-tenants" className="visually-hidden">
              {t("platform.metrics.tenants")}
            </h2>
            <table className="data-table" data-testid="metrics-tenant-table">
              <thead>
                <tr>
                  <th scope="col">{t("platform.tenants.name")}</th>
                  <th scope="col">{t("platform.metrics.requests")}</th>
                  <th scope="col">{t("platform.metrics.serverErrors")}</th>
                  <th scope="col">{t("platform.metrics.latency")}</th>
                  <th scope="col">{t("platform.metrics.dataSize")}</th>
                  <th scope="col">{t("platform.metrics.mailQueue")}</th>
                </tr>
              </thead>
              <tbody>
                {metrics.data.tenants.map((row) => (
                  <tr key={row.slug} data-testid="metrics-tenant" data-slug={row.slug}>
                    <td className="data-table__primary">
                      {row.name}
                      <div className="muted">{row.slug}</div>
                    </td>
                    <td data-testid="metrics-tenant-requests">{format.number(row.requests)}</td>
                    <td>{format.number(row.server_errors)}</td>
                    <td>
                      {row.latency_ms_avg === undefined
                        ? "—"
                        : t("platform.metrics.ms", { value: Math.round(row.latency_ms_avg) })}
                    </td>
                    <td>{row.data_bytes === undefined ? "—" : formatBytes(row.data_bytes, i18n.language)}</td>
                    <td>
                      {row.mail_due === undefined
                        ? "—"
                        : row.mail_due === 0
                          ? t("platform.metrics.mailEmpty")
                          : t("platform.metrics.mailDue", {
                              count: row.mail_due,
                              ago: row.oldest_mail_due_at ? (format.ago(row.oldest_mail_due_at) ?? "") : "",
                            })}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      )}
    </div>
  );
}

/** Requests per minute as bars, 5xx answers drawn over them in the danger colour. */
function TrafficChart({ minutes }: { minutes: TrafficMinute[] }) {
  const { t } = useTranslation();
  const format = useFormat();
  const total = minutes.reduce((sum, m) => sum + m.requests, 0);
  const summary = t("platform.metrics.chartSummary", { minutes: minutes.length, requests: format.number(total) });
  if (minutes.length === 0) {
    return <p className="card muted">{t("platform.metrics.noTraffic")}</p>;
  }
  const width = 600;
  const height = 120;
  const max = Math.max(1, ...minutes.map((m) => m.requests));
  const barWidth = width / minutes.length;
  const first = minutes[0];
  const last = minutes[minutes.length - 1];
  return (
    <figure className="card metrics-chart" data-testid="metrics-chart">
      <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <line x1={0} y1={height} x2={width} y2={height} className="metrics-chart__axis" />
        {minutes.map((m, i) => {
          const h = (m.requests / max) * (height - 10);
          const e = (m.server_errors / max) * (height - 10);
          return (
            <g key={m.minute}>
              <rect x={i * barWidth} y={height - h} width={Math.max(1, barWidth * 0.8)} height={h} className="metrics-chart__bar">
                <title>{`${format.dateTime(m.minute)}: ${m.requests}`}</title>
              </rect>
              {e > 0 && (
                <rect x={i * barWidth} y={height - e} width={Math.max(1, barWidth * 0.8)} height={e} className="metrics-chart__error" />
              )}
            </g>
          );
        })}
        {first && last && (
          <>
            <text x={0} y={height + 16} className="metrics-chart__tick">
              {format.dateTime(first.minute)}
            </text>
            <text x={width} y={height + 16} textAnchor="end" className="metrics-chart__tick">
              {format.dateTime(last.minute)}
            </text>
          </>
        )}
      </svg>
      <figcaption className="muted">{summary}</figcaption>
    </figure>
  );
}
