import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import { refreshAccount } from "../account/account";

const tariffsKey = ["me", "tariffs"] as const;

/** The tariffs on offer, the current and pending ones, and the ISP's rule for changing. */
export function useTariffCatalogue() {
  return useQuery({
    queryKey: tariffsKey,
    queryFn: () => data(api.GET("/me/tariffs")),
  });
}

export function useChangeTariff() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (code: string) => data(api.POST("/me/tariff", { body: { code } })),
    // Also after a failure (e.g. `same_tariff`): the catalogue on screen was out of date.
    onSettled: () => refreshAccount(client),
  });
}
