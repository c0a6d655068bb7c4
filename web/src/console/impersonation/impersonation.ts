import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { ImpersonationVisit } from "../../api/types";

export type Visit = ImpersonationVisit;

const visitsKey = ["console", "impersonations"] as const;

/** The platform operators' support visits to this console, newest first. */
export function useVisits() {
  return useQuery({
    queryKey: visitsKey,
    queryFn: () => data(api.GET("/console/impersonations")),
  });
}

export function useEndVisit() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => data(api.POST("/console/impersonations/{id}/end", { params: { path: { id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: visitsKey }),
  });
}
