import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type {
  ConsoleTicketDetail,
  TicketCategory,
  TicketPriority,
  TicketSettings,
  TicketStatus,
} from "../../api/types";
import { messageForm } from "../../shared/tickets/attachments";

const PAGE_SIZE = 25;
const queueKey = ["console", "tickets"] as const;
const ticketKey = (id: string) => [...queueKey, "detail", id] as const;

export const TICKET_PRIORITIES: readonly TicketPriority[] = ["low", "normal", "high", "urgent"];

/** Staff moves the API accepts (the server enforces the same table). */
export const NEXT_STATUSES: Record<TicketStatus, readonly TicketStatus[]> = {
  new: ["open", "waiting_on_customer", "resolved", "closed"],
  open: ["waiting_on_customer", "resolved", "closed"],
  waiting_on_customer: ["open", "resolved", "closed"],
  resolved: ["open", "closed"],
  closed: [],
};

export interface QueueFilters {
  status?: TicketStatus;
  priority?: TicketPriority;
  category?: TicketCategory;
  assignee?: "me" | "unassigned";
  tag?: string;
  overdue?: boolean;
}

/** The staff ticket queue, one keyset page at a time ("load more" follows next_cursor). */
export function useTicketQueue(filters: QueueFilters) {
  return useInfiniteQuery({
    queryKey: [...queueKey, "queue", filters],
    queryFn: ({ pageParam }) =>
      data(
        api.GET("/console/tickets", {
          params: {
            query: {
              ...filters,
              overdue: filters.overdue ? true : undefined,
              limit: PAGE_SIZE,
              after: pageParam,
            },
          },
        }),
      ),
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

export function useTicketAgents() {
  return useQuery({
    queryKey: ["console", "ticket-agents"],
    queryFn: () => data(api.GET("/console/ticket-agents")),
    staleTime: 60_000,
  });
}

export function useReplyToTicket(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ body, files }: { body: string; files: File[] }) =>
      data(
        api.POST("/console/tickets/{id}/replies", {
          params: { path: { id } },
          body: { body },
          ...(files.length > 0 && { bodySerializer: () => messageForm({ body }, files) }),
        }),
      ),
    onSuccess: () => {
      // A reply may move the ticket between statuses, so the queue is stale too.
      void client.invalidateQueries({ queryKey: queueKey });
    },
  });
}

export function useAddNote(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ body, files }: { body: string; files: File[] }) =>
      data(
        api.POST("/console/tickets/{id}/notes", {
          params: { path: { id } },
          body: { body },
          ...(files.length > 0 && { bodySerializer: () => messageForm({ body }, files) }),
        }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ticketKey(id) });
    },
  });
}

/** One desk change (status, priority, assignee, tags); the answer is the ticket as it now is. */
function useDeskChange<T>(id: string, change: (value: T) => Promise<ConsoleTicketDetail>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSuccess: (ticket) => {
      client.setQueryData(ticketKey(id), ticket);
      void client.invalidateQueries({ queryKey: [...queueKey, "queue"] });
    },
  });
}

export function useSetStatus(id: string) {
  return useDeskChange(id, (status: TicketStatus) =>
    data(api.PUT("/console/tickets/{id}/status", { params: { path: { id } }, body: { status } })),
  );
}

export function useSetPriority(id: string) {
  return useDeskChange(id, (priority: TicketPriority) =>
    data(api.PUT("/console/tickets/{id}/priority", { params: { path: { id } }, body: { priority } })),
  );
}

export function useSetAssignee(id: string) {
  return useDeskChange(id, (staffId: string | null) =>
    staffId === null
      ? data(api.DELETE("/console/tickets/{id}/assignee", { params: { path: { id } } }))
      : data(api.PUT("/console/tickets/{id}/assignee", { params: { path: { id } }, body: { staff_id: staffId } })),
  );
}

export function useSetTags(id: string) {
  return useDeskChange(id, (tags: string[]) =>
    data(api.PUT("/console/tickets/{id}/tags", { params: { path: { id } }, body: { tags } })),
  );
}

const settingsKey = ["console", "ticket-settings"] as const;

export function useTicketSettings() {
  return useQuery({
    queryKey: settingsKey,
    queryFn: () => data(api.GET("/console/ticket-settings")),
  });
}

export function useSaveTicketSettings() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: TicketSettings) => data(api.PUT("/console/ticket-settings", { body })),
    onSuccess: (saved) => {
      client.setQueryData(settingsKey, saved);
    },
  });
}
