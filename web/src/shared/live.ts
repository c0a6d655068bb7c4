import { useEffect } from "react";
import { useQueryClient, type QueryKey } from "@tanstack/react-query";

/**
 * One event of a live ticket stream (server-sent events; these operations are kept out of the
 * OpenAPI document, so the type is written here). Ids and a kind only, never text: the page
 * refetches through its normal API.
 */
export interface LiveUpdate {
  kind: "created" | "status" | "message" | "note" | "event" | "attachment" | "resync";
  /** Absent for `resync` (events may have been missed: refetch everything). */
  ticket_id?: string;
}

/** Several events of one change (a reply and its status, its files) refetch once. */
const SETTLE_MS = 300;

/**
 * Follows `/api/v1{path}` and invalidates `keys` whenever something changes there. The
 * browser reconnects by itself after a dropped connection; as events may have been missed
 * meanwhile, a reconnect refetches too. When the stream cannot be opened (signed out, no
 * permission, not found) it stays closed and shows nothing: the page works as without it.
 */
function useLiveInvalidation(path: string | null, keys: readonly QueryKey[]) {
  const client = useQueryClient();

  useEffect(() => {
    if (path === null || typeof EventSource === "undefined") return;
    const source = new EventSource(`/api/v1${path}`);
    let opened = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refetch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        for (const queryKey of keys) void client.invalidateQueries({ queryKey });
      }, SETTLE_MS);
    };
    source.onopen = () => {
      if (opened) refetch();
      opened = true;
    };
    source.onmessage = refetch;
    return () => {
      clearTimeout(timer);
      source.close();
    };
  }, [client, path, keys]);
}

// Prefixes of the query keys in portal/tickets, portal/notifications and console/tickets.
const PORTAL_KEYS: readonly QueryKey[] = [
  ["me", "tickets"],
  ["me", "notifications"],
];
const CONSOLE_KEYS: readonly QueryKey[] = [["console", "tickets"]];

/** A subscriber's ticket page: the thread, the list and the bell follow the ticket. */
export function useMyTicketLive(id: string) {
  useLiveInvalidation(id ? `/me/tickets/${encodeURIComponent(id)}/live` : null, PORTAL_KEYS);
}

/** The portal's header (the bell): any of the subscriber's tickets, so a reply shows at once. */
export function useMyTicketsLive() {
  useLiveInvalidation("/me/live", PORTAL_KEYS);
}

/** A ticket in the console: the thread, its notes and desk history (and the queue behind it). */
export function useQueueTicketLive(id: string) {
  useLiveInvalidation(id ? `/console/tickets/${encodeURIComponent(id)}/live` : null, CONSOLE_KEYS);
}

/** The console queue: any ticket of the ISP. */
export function useQueueLive() {
  useLiveInvalidation("/console/tickets/live", CONSOLE_KEYS);
}
