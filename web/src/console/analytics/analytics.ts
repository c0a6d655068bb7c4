import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { components } from "../../api/schema";

export const ANALYTICS_READ = "analytics.read";

export type DeskAnalytics = components["schemas"]["DeskAnalyticsView"];
export type DeskMetrics = components["schemas"]["DeskMetrics"];

/** `[from, to)`: calendar days in the ISP's time zone, `YYYY-MM-DD`. */
export interface PeriodQuery {
  from: string;
  to: string;
  agent?: string;
}

export function useDeskAnalytics(query: PeriodQuery, enabled: boolean) {
  return useQuery({
    queryKey: ["console", "analytics", query],
    queryFn: () => data(api.GET("/console/tickets/analytics", { params: { query } })),
    enabled,
    placeholderData: keepPreviousData,
  });
}

/** Where the browser downloads the same figures as CSV. */
export function csvUrl(query: PeriodQuery, lang: string): string {
  const params = new URLSearchParams({ from: query.from, to: query.to, lang: lang === "ru" ? "ru" : "en" });
  if (query.agent) params.set("agent", query.agent);
  return `/api/v1/console/tickets/analytics/csv?${params.toString()}`;
}

/** A ticket's ratings (staff view). */
export function useTicketRatings(ticketId: string, status: string) {
  return useQuery({
    queryKey: ["console", "tickets", ticketId, "ratings", status],
    queryFn: () => data(api.GET("/console/tickets/{id}/ratings", { params: { path: { id: ticketId } } })),
  });
}

/** `YYYY-MM-DD` of a local date. */
export function ymd(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The last `days` days up to and including today: `[today − days + 1, tomorrow)`. */
export function lastDays(days: number, today = new Date()): { from: string; to: string } {
  const end = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1);
  const start = new Date(today.getFullYear(), today.getMonth(), today.getDate() - days + 1);
  return { from: ymd(start), to: ymd(end) };
}
