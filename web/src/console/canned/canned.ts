import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";

/** Writing, changing and deleting the team's canned replies. */
export const CANNED_MANAGE = "canned.manage";

const cannedKey = ["console", "canned"] as const;

export interface CannedInput {
  title: string;
  body: string;
  category: string | null;
}

/** The team's canned replies by title; `q` searches title and body, `category` filters. */
export function useCannedReplies(q = "", category = "") {
  const query = q.trim();
  const cat = category.trim();
  return useQuery({
    queryKey: [...cannedKey, "list", query, cat],
    queryFn: () =>
      data(
        api.GET("/console/canned-replies", {
          params: { query: { q: query === "" ? undefined : query, category: cat === "" ? undefined : cat } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
}

export type CannedReply = NonNullable<ReturnType<typeof useCannedReplies>["data"]>["items"][number];

/** Creates a canned reply (no id) or replaces one. */
export function useSaveCannedReply(id: string | undefined) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: CannedInput) =>
      id === undefined
        ? data(api.POST("/console/canned-replies", { body }))
        : data(api.PUT("/console/canned-replies/{id}", { params: { path: { id } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: cannedKey }),
  });
}

export function useDeleteCannedReply() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      await api.DELETE("/console/canned-replies/{id}", { params: { path: { id } } });
    },
    onSettled: () => client.invalidateQueries({ queryKey: cannedKey }),
  });
}

/** A canned reply filled in for a ticket, on demand (the picker's choice). */
export function useRenderCannedReply(ticketId: string) {
  return useMutation({
    mutationFn: (replyId: string) =>
      data(
        api.GET("/console/tickets/{id}/canned-replies/{reply_id}", {
          params: { path: { id: ticketId, reply_id: replyId } },
        }),
      ),
  });
}

const mergeKey = (id: string) => ["console", "tickets", id, "merge"] as const;

/** Whether the ticket was merged into another, and which were merged into it. */
export function useTicketMerge(ticketId: string) {
  return useQuery({
    queryKey: mergeKey(ticketId),
    queryFn: () => data(api.GET("/console/tickets/{id}/merge", { params: { path: { id: ticketId } } })),
  });
}

/** Merges this ticket into the one numbered `intoNumber`; both tickets (and the queue) are read again afterwards. */
export function useMergeTicket(ticketId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (intoNumber: number) =>
      data(
        api.POST("/console/tickets/{id}/merge", {
          params: { path: { id: ticketId } },
          body: { into_ticket_number: intoNumber },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: ["console", "tickets"] }),
  });
}
