import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { TicketStatus } from "../../api/types";

const PAGE_SIZE = 25;
const queueKey = ["console", "tickets"] as const;
const ticketKey = (id: string) => [...queueKey, "detail", id] as const;

/** The staff ticket queue, one keyset page at a time ("load more" follows next_cursor). */
export function useTicketQueue(status: TicketStatus | undefined) {
  return useInfiniteQuery({
    queryKey: [...queueKey, "queue", status ?? "all"],
    queryFn: ({ pageParam }) =>
      data(api.GET("/console/tickets", { params: { query: { status, limit: PAGE_SIZE, after: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

export function useConsoleTicket(id: string) {
  return useQuery({
    queryKey: ticketKey(id),
    queryFn: () => data(api.GET("/console/tickets/{id}", { params: { path: { id } } })),
  });
}

export function useReplyToTicket(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: string) =>
      data(api.POST("/console/tickets/{id}/replies", { params: { path: { id } }, body: { body } })),
    onSuccess: () => {
      // A reply may move the ticket between statuses, so the queue is stale too.
      void client.invalidateQueries({ queryKey: queueKey });
    },
  });
}
