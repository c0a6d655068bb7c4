import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { paths } from "../../api/schema";

type Json<T> = T extends { content: infer C } ? C[keyof C] : never;
export type AgentWeek = Json<paths["/console/me/shift-schedule"]["get"]["responses"][200]>;
export type WeekInput = Json<paths["/console/me/shift-schedule"]["put"]["requestBody"]>;
export type ShiftSpan = AgentWeek["spans"][number];

/** ISO weekdays, Monday first. */
export const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const;
/** The i18n name of each ISO weekday (`shifts.weekdays.*`). */
export const WEEKDAY_KEYS = { 1: "mon", 2: "tue", 3: "wed", 4: "thu", 5: "fri", 6: "sat", 7: "sun" } as const;

const weeksKey = ["console", "assignment", "shift-schedules"] as const;
const myWeekKey = ["console", "assignment", "my-shift-schedule"] as const;

/** Every agent's week and who is on shift now (managers). */
export function useShiftSchedules(enabled: boolean) {
  return useQuery({
    queryKey: weeksKey,
    queryFn: () => data(api.GET("/console/assignment/shift-schedules")),
    enabled,
    refetchInterval: 60_000,
  });
}

/** The signed-in agent's own week. */
export function useMyShiftSchedule(enabled: boolean) {
  return useQuery({
    queryKey: myWeekKey,
    queryFn: () => data(api.GET("/console/me/shift-schedule")),
    enabled,
  });
}

/** Saves a week: the signed-in agent's own (`staffId` undefined) or, for managers, anyone's. */
export function useSaveShiftSchedule(staffId: string | undefined) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: WeekInput) =>
      staffId === undefined
        ? data(api.PUT("/console/me/shift-schedule", { body }))
        : data(
            api.PUT("/console/assignment/shift-schedules/{staff_id}", {
              params: { path: { staff_id: staffId } },
              body,
            }),
          ),
    onSettled: () => client.invalidateQueries({ queryKey: ["console", "assignment"] }),
  });
}

/** Spans of one weekday, by start. */
export function spansOn(spans: readonly ShiftSpan[], weekday: number): ShiftSpan[] {
  return spans.filter((s) => s.weekday === weekday).sort((a, b) => a.starts_at.localeCompare(b.starts_at));
}
