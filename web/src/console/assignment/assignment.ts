import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { paths } from "../../api/schema";

/** Agent groups are set up with the desk's management permission. */
export const GROUPS_MANAGE = "tickets.manage";
/** Only those who answer tickets work shifts. */
export const SHIFT_WORK = "tickets.reply";

type Json<T> = T extends { content: infer C } ? C[keyof C] : never;
export type GroupInput = Json<paths["/console/assignment/groups"]["post"]["requestBody"]>;
export type AgentGroup = Json<paths["/console/assignment/groups"]["post"]["responses"][201]>;
export type AssignmentMode = GroupInput["mode"];
export const ASSIGNMENT_MODES: readonly AssignmentMode[] = ["round_robin", "least_loaded"];

const groupsKey = ["console", "assignment", "groups"] as const;
const shiftKey = ["console", "assignment", "shift"] as const;
const onShiftKey = ["console", "assignment", "on-shift"] as const;

export function useAgentGroups() {
  return useQuery({
    queryKey: groupsKey,
    queryFn: () => data(api.GET("/console/assignment/groups")),
  });
}

/** Creates a group (no id) or replaces one. */
export function useSaveAgentGroup(id: string | undefined) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: GroupInput) =>
      id === undefined
        ? data(api.POST("/console/assignment/groups", { body }))
        : data(api.PUT("/console/assignment/groups/{id}", { params: { path: { id } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: ["console"] }),
  });
}

export function useDeleteAgentGroup() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      await api.DELETE("/console/assignment/groups/{id}", { params: { path: { id } } });
    },
    onSettled: () => client.invalidateQueries({ queryKey: groupsKey }),
  });
}

export function useMyShift(enabled: boolean) {
  return useQuery({
    queryKey: shiftKey,
    queryFn: () => data(api.GET("/console/me/shift")),
    enabled,
  });
}

export function useOnShift() {
  return useQuery({
    queryKey: onShiftKey,
    queryFn: () => data(api.GET("/console/assignment/on-shift")),
    refetchInterval: 60_000,
  });
}

/** Starts or ends the shift; the queue, groups and who is on shift are read again (tickets may have moved). */
export function useSetMyShift() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (onShift: boolean) => data(api.PUT("/console/me/shift", { body: { on_shift: onShift } })),
    onSuccess: (changed) => {
      client.setQueryData(shiftKey, changed.shift);
    },
    onSettled: () => client.invalidateQueries({ queryKey: ["console"] }),
  });
}
