import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";

const optionsKey = ["me", "account-options"] as const;

/**
 * Everything under ["me"] (dashboard, ledger, options, tariffs) may have moved. Mutations return
 * this from `onSettled`, so they stay pending until what is on screen has been read again.
 */
export function refreshAccount(client: QueryClient): Promise<void> {
  return client.invalidateQueries({ queryKey: ["me"] });
}

/** The ISP's rules for promised payments and suspension, and what is running now. */
export function useAccountOptions() {
  return useQuery({
    queryKey: optionsKey,
    queryFn: () => data(api.GET("/me/account-options")),
  });
}

export function useTakePromisedPayment() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (amountMinor: number) => data(api.POST("/me/promised-payment", { body: { amount_minor: amountMinor } })),
    onSettled: () => refreshAccount(client),
  });
}

export function useSuspend() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (days: number) => data(api.POST("/me/suspension", { body: { days } })),
    onSettled: () => refreshAccount(client),
  });
}

export function useResume() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      await api.DELETE("/me/suspension");
    },
    onSettled: () => refreshAccount(client),
  });
}
