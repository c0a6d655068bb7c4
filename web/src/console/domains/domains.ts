import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { components } from "../../api/schema";

/** Custom domains are part of the ISP's settings. */
export const DOMAINS_MANAGE = "settings.manage";

export type CustomDomain = components["schemas"]["CustomDomainItem"];
export type CustomDomainList = components["schemas"]["CustomDomainList"];

const domainsKey = ["console", "settings", "domains"] as const;

export function useDomains() {
  return useQuery({
    queryKey: domainsKey,
    queryFn: () => data(api.GET("/console/settings/domains")),
  });
}

/** Puts one changed domain into the cached list (the list stays in the server's order). */
function useReplaceInList() {
  const client = useQueryClient();
  return (domain: CustomDomain) => {
    client.setQueryData<CustomDomainList>(domainsKey, (list) =>
      list
        ? {
            ...list,
            items: list.items.some((d) => d.host === domain.host)
              ? list.items.map((d) => (d.host === domain.host ? domain : d))
              : [...list.items, domain],
          }
        : list,
    );
  };
}

export function useAddDomain() {
  const replace = useReplaceInList();
  return useMutation({
    mutationFn: (domain: string) => data(api.POST("/console/settings/domains", { body: { domain } })),
    onSuccess: replace,
  });
}

export function useVerifyDomain() {
  const replace = useReplaceInList();
  return useMutation({
    mutationFn: (host: string) =>
      data(api.POST("/console/settings/domains/{host}/verify", { params: { path: { host } } })),
    onSuccess: replace,
  });
}

export function useRemoveDomain() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (host: string) => {
      await data(api.DELETE("/console/settings/domains/{host}", { params: { path: { host } } }));
      return host;
    },
    onSuccess: (host) => {
      client.setQueryData<CustomDomainList>(domainsKey, (list) =>
        list ? { ...list, items: list.items.filter((d) => d.host !== host) } : list,
      );
    },
  });
}
