import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";

export const STAFF_MANAGE = "staff.manage";

const staffKey = ["console", "staff"] as const;

export type RoleChoice = { kind: "built_in"; role: BuiltInRoleName } | { kind: "custom"; id: string };
export type BuiltInRoleName = "owner" | "admin" | "support_agent" | "billing_clerk" | "technician" | "read_only";

export function useStaffList() {
  return useQuery({ queryKey: [...staffKey, "list"], queryFn: () => data(api.GET("/console/staff")) });
}

export function useRoles() {
  return useQuery({ queryKey: [...staffKey, "roles"], queryFn: () => data(api.GET("/console/roles")) });
}

export function usePermissionCatalogue() {
  return useQuery({
    queryKey: [...staffKey, "permissions"],
    queryFn: () => data(api.GET("/console/permissions")),
    staleTime: 10 * 60_000,
  });
}

export type RoleBody = { name: string; description: string; permissions: Permission[] };
type Catalogue = NonNullable<ReturnType<typeof usePermissionCatalogue>["data"]>;
export type Permission = Catalogue["items"][number]["permission"];

/** Creates a custom role (no id) or replaces one. */
export function useSaveRole() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string | undefined; body: RoleBody }) =>
      id === undefined
        ? data(api.POST("/console/roles", { body }))
        : data(api.PUT("/console/roles/{id}", { params: { path: { id } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: staffKey }),
  });
}

export function useDeleteRole() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      await api.DELETE("/console/roles/{id}", { params: { path: { id } } });
    },
    onSettled: () => client.invalidateQueries({ queryKey: staffKey }),
  });
}

export function useSetStaffRole() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, role }: { id: string; role: RoleChoice }) =>
      data(api.PUT("/console/staff/{id}/role", { params: { path: { id } }, body: role })),
    onSettled: () => client.invalidateQueries({ queryKey: staffKey }),
  });
}

export function useSetStaffActive() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, active }: { id: string; active: boolean }) =>
      data(api.PUT("/console/staff/{id}/active", { params: { path: { id } }, body: { active } })),
    onSettled: () => client.invalidateQueries({ queryKey: staffKey }),
  });
}

export function useStaffSecurity() {
  return useQuery({ queryKey: [...staffKey, "security"], queryFn: () => data(api.GET("/console/staff-security")) });
}

export function useSetStaffSecurity() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (require_two_factor: boolean) =>
      data(api.PUT("/console/staff-security", { body: { require_two_factor } })),
    onSettled: () => client.invalidateQueries({ queryKey: staffKey }),
  });
}
