import { useQuery } from "@tanstack/react-query";
import { api, data } from "../../api/client";

/** A period of calendar days, both inclusive, as `YYYY-MM-DD`. */
export interface Period {
  from: string;
  to: string;
}

const pad = (n: number) => String(n).padStart(2, "0");
const ymd = (d: Date) => `${String(d.getFullYear())}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The quick choices above the form: this month so far, the last whole month, the last 3 months. */
export function presets(today = new Date()): Record<"thisMonth" | "lastMonth" | "lastQuarter", Period> {
  const y = today.getFullYear();
  const m = today.getMonth();
  return {
    thisMonth: { from: ymd(new Date(y, m, 1)), to: ymd(today) },
    lastMonth: { from: ymd(new Date(y, m - 1, 1)), to: ymd(new Date(y, m, 0)) },
    lastQuarter: { from: ymd(new Date(y, m - 2, 1)), to: ymd(today) },
  };
}

/** The period in the address (`?from=&to=`), or this month so far when it has none or a bad one. */
export function periodFrom(params: URLSearchParams, today = new Date()): Period {
  const from = params.get("from");
  const to = params.get("to");
  if (from && to && DAY.test(from) && DAY.test(to) && from <= to) return { from, to };
  return presets(today).thisMonth;
}

export function useStatement(period: Period) {
  return useQuery({
    queryKey: ["me", "statement", period.from, period.to],
    queryFn: () => data(api.GET("/me/statement", { params: { query: { from: period.from, to: period.to } } })),
  });
}

/** The download address of the statement as `pdf` or `csv` (same-origin GET: the cookie goes along). */
export function downloadUrl(kind: "pdf" | "csv", period: Period, language: string): string {
  const query = new URLSearchParams({ from: period.from, to: period.to });
  if (kind === "pdf") query.set("lang", language.startsWith("ru") ? "ru" : "en");
  return `/api/v1/me/statement.${kind}?${query.toString()}`;
}
