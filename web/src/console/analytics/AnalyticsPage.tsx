import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { usePageTitle } from "../../shared/site/site";
import { useTicketCategories } from "../../shared/tickets/categories";
import { useFormat } from "../../shared/i18n/format";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useHasPermission } from "../subscribers/billing";
import { useTicketAgents } from "../tickets/tickets";
import {
  ANALYTICS_READ,
  csvUrl,
  lastDays,
  useDeskAnalytics,
  ymd,
  type DeskAnalytics,
  type DeskMetrics,
  type PeriodQuery,
} from "./analytics";
import "./analytics.css";

const PRESETS = [7, 30, 90] as const;

/** `day` (`YYYY-MM-DD`) moved by `delta` days. */
function shiftDay(day: string, delta: number): string {
  const [y = 1970, m = 1, d = 1] = day.split("-").map(Number);
  return ymd(new Date(y, m - 1, d + delta));
}

/** The API's `to` is exclusive; the picker shows the last day. */
const nextDay = (day: string) => shiftDay(day, 1);
const previousDay = (day: string) => shiftDay(day, -1);

function useMinutes() {
  const { t } = useTranslation();
  return (minutes: number | undefined): string => {
    if (minutes === undefined) return "—";
    const m = Math.round(minutes);
    if (m < 60) return t("insights.duration.minutes", { m });
    if (m < 24 * 60) return t("insights.duration.hours", { h: Math.floor(m / 60), m: m % 60 });
    return t("insights.duration.days", { d: Math.floor(m / 1440), h: Math.floor((m % 1440) / 60) });
  };
}

function share(rate: number | undefined): string {
  return rate === undefined ? "—" : `${Math.round(rate * 1000) / 10}%`;
}

/** Desk analytics: figures for a period, a daily volume chart, per-agent table, CSV. */
export function AnalyticsPage() {
  const { t, i18n } = useTranslation();
  usePageTitle(t("insights.title"));
  const mayRead = useHasPermission(ANALYTICS_READ);
  const initial = lastDays(30);
  const [from, setFrom] = useState(initial.from);
  const [last, setLast] = useState(previousDay(initial.to));
  const [agent, setAgent] = useState("");
  const agents = useTicketAgents();
  const query: PeriodQuery = { from, to: nextDay(last), ...(agent ? { agent } : {}) };
  const valid = from !== "" && last !== "" && from <= last;
  const analytics = useDeskAnalytics(query, mayRead && valid);
  const ids = { from: useId(), to: useId(), agent: useId() };

  if (!mayRead) {
    return (
      <p className="notice notice--warning" role="alert">
        {t("insights.forbidden")}
      </p>
    );
  }

  return (
    <div className="stack analytics">
      <h1>{t("insights.title")}</h1>
      <form
        className="card analytics__period"
        onSubmit={(e) => {
          e.preventDefault();
        }}
        aria-label={t("insights.period")}
      >
        <div className="analytics__presets" role="group" aria-label={t("insights.presets")}>
          {PRESETS.map((days) => (
            <button
              key={days}
              type="button"
              className="button button--small"
              onClick={() => {
                const p = lastDays(days);
                setFrom(p.from);
                setLast(previousDay(p.to));
              }}
              data-testid={`analytics-preset-${days}`}
            >
              {t("insights.lastDays", { n: days })}
            </button>
          ))}
        </div>
        <label htmlFor={ids.from} className="field__label">
          {t("insights.from")}
          <input
            id={ids.from}
            type="date"
            value={from}
            onChange={(e) => {
              setFrom(e.target.value);
            }}
            data-testid="analytics-from"
          />
        </label>
        <label htmlFor={ids.to} className="field__label">
          {t("insights.to")}
          <input
            id={ids.to}
            type="date"
            value={last}
            onChange={(e) => {
              setLast(e.target.value);
            }}
            data-testid="analytics-to"
          />
        </label>
        <label htmlFor={ids.agent} className="field__label">
          {t("insights.agent")}
          <select
            id={ids.agent}
            value={agent}
            onChange={(e) => {
              setAgent(e.target.value);
            }}
            data-testid="analytics-agent"
          >
            <option value="">{t("insights.wholeTeam")}</option>
            {agents.data?.items.map((a) => (
              <option key={a.id} value={a.id}>
                {a.display_name}
              </option>
            ))}
          </select>
        </label>
        <a
          className={valid ? "button" : "button button--disabled"}
          href={valid ? csvUrl(query, i18n.resolvedLanguage ?? "en") : undefined}
          aria-disabled={!valid}
          download
          data-testid="analytics-csv"
        >
          {t("insights.downloadCsv")}
        </a>
      </form>
      {!valid && (
        <p className="notice notice--warning" role="alert">
          {t("insights.badPeriod")}
        </p>
      )}
      {analytics.isPending && valid && <Loading />}
      {analytics.isError && <ErrorNotice error={analytics.error} />}
      {analytics.data && <Figures analytics={analytics.data} />}
    </div>
  );
}

function Figures({ analytics }: { analytics: DeskAnalytics }) {
  const { t } = useTranslation();
  const categories = useTicketCategories("staff");
  const minutes = useMinutes();
  const m = analytics.team;
  return (
    <>
      <p className="muted" data-testid="analytics-zone">
        {t("insights.zoneNote", { zone: analytics.time_zone })}
      </p>
      <ul className="analytics__cards" data-testid="analytics-cards">
        <Card label={t("insights.cards.tickets")} value={String(m.tickets)} testid="card-tickets" />
        <Card
          label={t("insights.cards.firstResponse")}
          value={minutes(m.first_response.median_minutes)}
          hint={t("insights.p90", { value: minutes(m.first_response.p90_minutes) })}
          testid="card-first-response"
        />
        <Card
          label={t("insights.cards.resolution")}
          value={minutes(m.resolution.median_minutes)}
          hint={t("insights.p90", { value: minutes(m.resolution.p90_minutes) })}
          testid="card-resolution"
        />
        <Card
          label={t("insights.cards.firstResponseSla")}
          value={share(m.first_response_sla.rate)}
          hint={t("insights.metOf", { met: m.first_response_sla.met, total: m.first_response_sla.met + m.first_response_sla.missed })}
          testid="card-fr-sla"
        />
        <Card
          label={t("insights.cards.resolutionSla")}
          value={share(m.resolution_sla.rate)}
          hint={t("insights.metOf", { met: m.resolution_sla.met, total: m.resolution_sla.met + m.resolution_sla.missed })}
          testid="card-res-sla"
        />
        <Card
          label={t("insights.cards.csat")}
          value={m.csat.average === undefined ? "—" : m.csat.average.toFixed(2)}
          hint={t("insights.ratings", { n: m.csat.count })}
          testid="card-csat"
        />
        <Card
          label={t("insights.cards.deflection")}
          value={share(analytics.deflection.rate)}
          hint={t("insights.deflected", { n: analytics.deflection.deflected })}
          testid="card-deflection"
        />
        <Card
          label={t("insights.cards.backlog")}
          value={String(m.backlog.total)}
          hint={t("insights.backlogNow")}
          testid="card-backlog"
        />
      </ul>
      <div className="analytics__charts">
        <section className="card" aria-labelledby="analytics-volume">
          <h2 id="analytics-volume">{t("insights.volumeByDay")}</h2>
          <VolumeChart days={analytics.by_day} />
        </section>
        <section className="card" aria-labelledby="analytics-breakdown">
          <h2 id="analytics-breakdown">{t("insights.breakdown")}</h2>
          <h3>{t("insights.byCategory")}</h3>
          <Bars
            testid="analytics-categories"
            rows={analytics.by_category.map((c) => ({ label: categories.name(c.category), value: c.tickets }))}
            empty={t("insights.noTickets")}
          />
          <h3>{t("insights.backlogByAge")}</h3>
          <Bars
            testid="analytics-backlog"
            rows={[
              { label: t("insights.ages.under1d"), value: m.backlog.under_1d },
              { label: t("insights.ages.d1to3"), value: m.backlog.from_1d_to_3d },
              { label: t("insights.ages.d3to7"), value: m.backlog.from_3d_to_7d },
              { label: t("insights.ages.over7d"), value: m.backlog.over_7d },
            ]}
            empty={t("insights.noTickets")}
          />
          <h3>{t("insights.csatDistribution")}</h3>
          <Bars
            testid="analytics-csat"
            rows={m.csat.distribution.map((n, i) => ({ label: "★".repeat(i + 1), value: n }))}
            empty={t("insights.noRatings")}
          />
        </section>
      </div>
      <AgentTable analytics={analytics} />
    </>
  );
}

function Card({ label, value, hint, testid }: { label: string; value: string; hint?: string; testid: string }) {
  return (
    <li className="card analytics__card" data-testid={testid}>
      <span className="analytics__card-label">{label}</span>
      <strong className="analytics__card-value">{value}</strong>
      {hint && <span className="muted analytics__card-hint">{hint}</span>}
    </li>
  );
}

/** Tickets opened per day: inline SVG bars; the numbers are in each bar's title and the caption. */
function VolumeChart({ days }: { days: DeskAnalytics["by_day"] }) {
  const { t } = useTranslation();
  const format = useFormat();
  const max = Math.max(1, ...days.map((d) => d.tickets));
  const total = days.reduce((sum, d) => sum + d.tickets, 0);
  const first = days.at(0);
  const last = days.at(-1);
  const width = 600;
  const height = 160;
  const gap = days.length > 60 ? 0 : 2;
  const barWidth = width / Math.max(1, days.length);
  const summary = t("insights.chartSummary", {
    total,
    days: days.length,
    max: Math.max(0, ...days.map((d) => d.tickets)),
  });
  return (
    <figure className="analytics__chart" data-testid="analytics-chart">
      <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <line x1={0} y1={height} x2={width} y2={height} className="analytics__axis" />
        {days.map((d, i) => {
          const h = (d.tickets / max) * (height - 10);
          return (
            <rect
              key={d.day}
              x={i * barWidth + gap / 2}
              y={height - h}
              width={Math.max(1, barWidth - gap)}
              height={h}
              className="analytics__bar"
              data-testid="analytics-bar"
            >
              <title>{`${format.day(d.day)}: ${d.tickets}`}</title>
            </rect>
          );
        })}
        {first && last && (
          <>
            <text x={0} y={height + 16} className="analytics__tick">
              {format.day(first.day)}
            </text>
            <text x={width} y={height + 16} textAnchor="end" className="analytics__tick">
              {format.day(last.day)}
            </text>
          </>
        )}
      </svg>
      <figcaption className="muted">{summary}</figcaption>
    </figure>
  );
}

/** A labelled horizontal bar per row (HTML, so it reads as a list). */
function Bars({ rows, empty, testid }: { rows: { label: string; value: number }[]; empty: string; testid: string }) {
  const max = Math.max(0, ...rows.map((r) => r.value));
  if (max === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="analytics__bars" data-testid={testid}>
      {rows.map((r) => (
        <li key={r.label}>
          <span className="analytics__bars-label">{r.label}</span>
          <span className="analytics__bars-track" aria-hidden="true">
            <span className="analytics__bars-fill" style={{ width: `${(r.value / max) * 100}%` }} />
          </span>
          <span className="analytics__bars-value">{r.value}</span>
        </li>
      ))}
    </ul>
  );
}

function AgentTable({ analytics }: { analytics: DeskAnalytics }) {
  const { t } = useTranslation();
  const minutes = useMinutes();
  const row = (key: string, name: string, m: DeskMetrics, team = false) => (
    <tr key={key} data-testid={team ? "analytics-team-row" : "analytics-agent-row"} className={team ? "analytics__team" : undefined}>
      <td className="data-table__primary">{name}</td>
      <td data-label={t("insights.table.tickets")}>{m.tickets}</td>
      <td data-label={t("insights.table.firstResponse")}>
        {minutes(m.first_response.median_minutes)} / {minutes(m.first_response.p90_minutes)}
      </td>
      <td data-label={t("insights.table.resolution")}>
        {minutes(m.resolution.median_minutes)} / {minutes(m.resolution.p90_minutes)}
      </td>
      <td data-label={t("insights.table.sla")}>
        {share(m.first_response_sla.rate)} / {share(m.resolution_sla.rate)}
      </td>
      <td data-label={t("insights.table.backlog")}>{m.backlog.total}</td>
      <td data-label={t("insights.table.csat")}>
        {m.csat.average === undefined ? "—" : `${m.csat.average.toFixed(2)} (${m.csat.count})`}
      </td>
    </tr>
  );
  return (
    <section className="card table-card" aria-labelledby="analytics-agents">
      <div className="table-card__head">
        <h2 id="analytics-agents" className="table-card__title">
          {t("insights.perAgent")}
        </h2>
      </div>
      <table className="data-table" data-testid="analytics-agents">
        <thead>
          <tr>
            <th scope="col">{t("insights.table.agent")}</th>
            <th scope="col">{t("insights.table.tickets")}</th>
            <th scope="col">{t("insights.table.firstResponse")}</th>
            <th scope="col">{t("insights.table.resolution")}</th>
            <th scope="col">{t("insights.table.sla")}</th>
            <th scope="col">{t("insights.table.backlog")}</th>
            <th scope="col">{t("insights.table.csat")}</th>
          </tr>
        </thead>
        <tbody>
          {row("team", t("insights.team"), analytics.team, true)}
          {analytics.agents.map((a) =>
            row(a.agent_id ?? "unassigned", a.agent_name ?? t("insights.unassigned"), a.metrics),
          )}
        </tbody>
      </table>
    </section>
  );
}
