import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { paths } from "../../api/schema";

/** Incidents are read with the ticket queue's permission. */
export const INCIDENTS_READ = "tickets.read";
export const INCIDENTS_MANAGE = "incidents.manage";

type Json<T> = T extends { content: infer C } ? C[keyof C] : never;
export type DeclareInput = Json<paths["/console/incidents"]["post"]["requestBody"]>;
export type IncidentItem = Json<paths["/console/incidents"]["post"]["responses"][201]>;
export type IncidentState = "active" | "closed";

const incidentsKey = ["console", "incidents"] as const;

export function useIncidents(state: IncidentState) {
  return useQuery({
    queryKey: [...incidentsKey, "list", state],
    queryFn: () => data(api.GET("/console/incidents", { params: { query: { state } } })),
  });
}

export function useSuggestedIncidents() {
  return useQuery({
    queryKey: [...incidentsKey, "suggested"],
    queryFn: () => data(api.GET("/console/incident-suggestions")),
    refetchInterval: 60_000,
  });
}

/** Staff know why the NAS is quiet: hidden until it falls silent again. */
export function useDismissSuggestion() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (nasId: string) =>
      data(api.POST("/console/incident-suggestions/{nas_id}/dismiss", { params: { path: { nas_id: nasId } } })),
    onSettled: () => client.invalidateQueries({ queryKey: [...incidentsKey, "suggested"] }),
  });
}

export function useIncident(id: string) {
  return useQuery({
    queryKey: [...incidentsKey, "detail", id],
    queryFn: () => data(api.GET("/console/incidents/{id}", { params: { path: { id } } })),
  });
}

export function useDeclareIncident() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: DeclareInput) => data(api.POST("/console/incidents", { body })),
    onSettled: () => client.invalidateQueries({ queryKey: incidentsKey }),
  });
}

export function useLinkTickets(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (numbers: number[]) =>
      data(
        api.POST("/console/incidents/{id}/tickets", {
          params: { path: { id } },
          body: { ticket_numbers: numbers },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: incidentsKey }),
  });
}

export function useUnlinkTicket(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (ticketId: string) =>
      data(
        api.DELETE("/console/incidents/{id}/tickets/{ticket_id}", {
          params: { path: { id, ticket_id: ticketId } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: incidentsKey }),
  });
}

/** `requestId` makes a retried post harmless: the server posts each id once. */
export function usePostIncidentUpdate(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ requestId, body }: { requestId: string; body: string }) =>
      data(
        api.POST("/console/incidents/{id}/updates", {
          params: { path: { id } },
          body: { id: requestId, body },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: incidentsKey }),
  });
}

export function useCloseIncident(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (message: string | null) =>
      data(
        api.POST("/console/incidents/{id}/close", {
          params: { path: { id } },
          body: { message },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: incidentsKey }),
  });
}

/** "12, #15 17" → [12, 15, 17]; anything that is not a number is left out. */
export function parseTicketNumbers(raw: string): number[] {
  return [
    ...new Set(
      raw
        .split(/[\s,;#]+/)
        .map((part) => Number(part))
        .filter((n) => Number.isInteger(n) && n > 0),
    ),
  ];
}
