import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { paths } from "../../api/schema";

export const NETWORK_READ = "network.read";
export const NETWORK_MANAGE = "network.manage";

type Json<T> = T extends { content: infer C } ? C[keyof C] : never;
export type NasInput = Json<paths["/console/nas"]["post"]["requestBody"]>;
export type NasRegistered = Json<paths["/console/nas"]["post"]["responses"][201]>;
export type NasItem = NasRegistered["nas"];
export type NasVendor = NasItem["vendor"];
export type ServiceLoginInput = Json<paths["/console/subscribers/{account_number}/service-logins"]["post"]["requestBody"]>;
export type ServiceLoginKind = ServiceLoginInput["kind"];

export const VENDORS: NasVendor[] = ["mikrotik", "cisco", "juniper", "accel_ppp", "other"];
export const LOGIN_KINDS: ServiceLoginKind[] = ["pppoe", "ipoe_mac", "ipoe_option82"];

const networkKey = ["console", "network"] as const;

export function useNasList() {
  return useInfiniteQuery({
    queryKey: [...networkKey, "nas"],
    queryFn: ({ pageParam }) => data(api.GET("/console/nas", { params: { query: { limit: 100, after: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

export function useRegisterNas() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: NasInput) => data(api.POST("/console/nas", { body })),
    onSettled: () => client.invalidateQueries({ queryKey: networkKey }),
  });
}

export type NetworkSettings = Json<paths["/console/network/settings"]["get"]["responses"][200]>;
export type NetworkSettingsInput = Json<paths["/console/network/settings"]["put"]["requestBody"]>;

export function useUpdateNas() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: NasInput }) =>
      data(api.PUT("/console/nas/{id}", { params: { path: { id } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: networkKey }),
  });
}

export function useRotateNasSecret() {
  return useMutation({
    mutationFn: (id: string) => data(api.POST("/console/nas/{id}/secret", { params: { path: { id } } })),
  });
}

export function useNetworkSettings() {
  return useQuery({
    queryKey: [...networkKey, "settings"],
    queryFn: () => data(api.GET("/console/network/settings")),
  });
}

export function useUpdateNetworkSettings() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: NetworkSettingsInput) => data(api.PUT("/console/network/settings", { body })),
    onSuccess: (saved) => {
      client.setQueryData([...networkKey, "settings"], saved);
    },
  });
}

export function useDeleteNas() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => data(api.DELETE("/console/nas/{id}", { params: { path: { id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: networkKey }),
  });
}

export function useOnlineSessions() {
  return useInfiniteQuery({
    queryKey: [...networkKey, "sessions"],
    queryFn: ({ pageParam }) =>
      data(api.GET("/console/sessions", { params: { query: { limit: 50, after: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

export function useServiceLogins(accountNumber: string, enabled: boolean) {
  return useQuery({
    queryKey: [...networkKey, "logins", accountNumber],
    queryFn: () =>
      data(
        api.GET("/console/subscribers/{account_number}/service-logins", {
          params: { path: { account_number: accountNumber } },
        }),
      ),
    enabled,
  });
}

export function useSubscriberNetwork(accountNumber: string, enabled: boolean) {
  return useQuery({
    queryKey: [...networkKey, "usage", accountNumber],
    queryFn: () =>
      data(
        api.GET("/console/subscribers/{account_number}/network", {
          params: { path: { account_number: accountNumber } },
        }),
      ),
    enabled,
  });
}

export function useAddServiceLogin(accountNumber: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ServiceLoginInput) =>
      data(
        api.POST("/console/subscribers/{account_number}/service-logins", {
          params: { path: { account_number: accountNumber } },
          body,
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: [...networkKey, "logins", accountNumber] }),
  });
}

export function useDeleteServiceLogin(accountNumber: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      data(
        api.DELETE("/console/subscribers/{account_number}/service-logins/{id}", {
          params: { path: { account_number: accountNumber, id } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: [...networkKey, "logins", accountNumber] }),
  });
}
