import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { EquipmentOrderRequest, OrderMode } from "../../api/types";
import { refreshAccount } from "../account/account";

const ordersKey = ["me", "equipment-orders"] as const;

/** The ISP's equipment on offer. */
export function useEquipmentCatalogue() {
  return useQuery({
    queryKey: ["me", "equipment"],
    queryFn: () => data(api.GET("/me/equipment")),
  });
}

/** What ordering `code` to buy or rent would charge now; read afresh each time it is shown. */
export function useEquipmentQuote(code: string, mode: OrderMode) {
  return useQuery({
    queryKey: ["me", "equipment", "quote", code, mode],
    queryFn: () =>
      data(api.GET("/me/equipment/{code}/quote", { params: { path: { code }, query: { mode } } })),
    staleTime: 0,
    gcTime: 0,
  });
}

export function useMyOrders() {
  return useQuery({
    queryKey: ordersKey,
    queryFn: () => data(api.GET("/me/equipment-orders")),
  });
}

export function useMyOrder(id: string) {
  return useQuery({
    queryKey: [...ordersKey, id],
    queryFn: () => data(api.GET("/me/equipment-orders/{id}", { params: { path: { id } } })),
  });
}

/** Places an order; the balance, the ledger and the orders are read again afterwards. */
export function usePlaceOrder() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: EquipmentOrderRequest) => data(api.POST("/me/equipment-orders", { body })),
    onSettled: () => refreshAccount(client),
  });
}

export function useCancelOrder(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => data(api.POST("/me/equipment-orders/{id}/cancel", { params: { path: { id } } })),
    onSettled: () => refreshAccount(client),
  });
}
