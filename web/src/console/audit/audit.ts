import { useInfiniteQuery, useMutation, useQuery } from "@tanstack/react-query";
import { api, data } from "../../api/client";

export const AUDIT_READ = "audit.read";

export interface AuditSearch {
  actor: string;
  action: string;
  target: string;
  /** `YYYY-MM-DD`, local days. */
  from: string;
  to: string;
}

function query(search: AuditSearch) {
  const day = (value: string, plusDays = 0) => {
    if (value === "") return undefined;
    const date = new Date(`${value}T00:00:00`);
    date.setDate(date.getDate() + plusDays);
    return date.toISOString();
  };
  const text = (value: string) => (value.trim() === "" ? undefined : value.trim());
  return {
    actor: text(search.actor),
    action: text(search.action),
    target: text(search.target),
    from: day(search.from),
    // The "to" day is included: up to the start of the next one.
    to: day(search.to, 1),
  };
}

/** The log, newest first; "load more" follows next_before. */
export function useAuditLog(search: AuditSearch) {
  return useInfiniteQuery({
    queryKey: ["console", "audit", "list", search],
    queryFn: ({ pageParam }) =>
      data(api.GET("/console/audit", { params: { query: { ...query(search), before: pageParam, limit: 50 } } })),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (page) => page.next_before ?? undefined,
  });
}

export function useAuditVerification() {
  return useQuery({
    queryKey: ["console", "audit", "verification"],
    queryFn: () => data(api.GET("/console/audit/verification")),
  });
}

/** Checks a checkpoint noted down earlier against the log (a read: nothing changes). */
export function useCheckpointCheck() {
  return useMutation({
    mutationFn: (checkpoint: { seq: number; hash: string }) =>
      data(
        api.GET("/console/audit/verification", {
          params: { query: { checkpoint_seq: checkpoint.seq, checkpoint_hash: checkpoint.hash } },
        }),
      ),
  });
}

/** The export's address for the same search (the browser downloads it with the session cookie). */
export function exportUrl(search: AuditSearch): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query(search))) {
    if (value !== undefined) params.set(key, value);
  }
  const qs = params.toString();
  return `/api/v1/console/audit.csv${qs ? `?${qs}` : ""}`;
}
