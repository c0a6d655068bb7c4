import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { TicketCategory } from "../../api/types";
import { messageForm } from "../../shared/tickets/attachments";

// The subscriber's own tickets. Query keys live next to the hooks that fill them.
const ticketsKey = ["me", "tickets"] as const;
const ticketKey = (id: string) => [...ticketsKey, id] as const;

export function useMyTickets() {
  return useQuery({
    queryKey: ticketsKey,
    queryFn: () => data(api.GET("/me/tickets")),
  });
}

export function useMyTicket(id: string) {
  return useQuery({
    queryKey: ticketKey(id),
    queryFn: () => data(api.GET("/me/tickets/{id}", { params: { path: { id } } })),
  });
}

export function useOpenTicket() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ files, ...body }: { category: TicketCategory; subject: string; description: string; files: File[] }) =>
      data(
        api.POST("/me/tickets", {
          body,
          // With files the same fields go as multipart/form-data.
          ...(files.length > 0 && { bodySerializer: () => messageForm(body, files) }),
        }),
      ),
    onSuccess: (ticket) => {
      client.setQueryData(ticketKey(ticket.id), ticket);
      // The list and the dashboard's open-ticket count are now stale.
      void client.invalidateQueries({ queryKey: ["me"] });
    },
  });
}

export function useReplyToMyTicket(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ body, files }: { body: string; files: File[] }) =>
      data(
        api.POST("/me/tickets/{id}/messages", {
          params: { path: { id } },
          body: { body },
          ...(files.length > 0 && { bodySerializer: () => messageForm({ body }, files) }),
        }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ticketsKey });
    },
  });
}

/** Reopens a resolved ticket within the provider's reopen window. */
export function useReopenMyTicket(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => data(api.POST("/me/tickets/{id}/reopen", { params: { path: { id } } })),
    onSuccess: (ticket) => {
      client.setQueryData(ticketKey(id), ticket);
      void client.invalidateQueries({ queryKey: ["me"] });
    },
  });
}
