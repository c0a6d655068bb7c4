import type { components } from "../../api/schema";

export type ConsolePlan = components["schemas"]["ConsolePlan"];
export type LimitUsage = ConsolePlan["usage"][number];

/** Bytes as the plan page shows them (MiB / GiB). */
export function formatBytes(bytes: number, locale: string): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: unit === 0 ? 0 : 1 }).format(value)} ${units[unit]}`;
}

/** Used share of a limit in whole percent, or null when unlimited. */
export function percentUsed(usage: LimitUsage): number | null {
  if (usage.max === undefined) return null;
  if (usage.max <= 0) return 100;
  return Math.min(100, Math.floor((usage.used * 100) / usage.max));
}

export const PLAN_QUERY = ["console", "plan"] as const;
