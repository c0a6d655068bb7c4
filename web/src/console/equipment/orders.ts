import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { OrderStatus } from "../../api/types";

export const ORDERS_READ = "orders.read";
export const ORDERS_MANAGE = "orders.manage";

const PAGE_SIZE = 25;
const ordersKey = ["console", "equipment-orders"] as const;

/** The ISP's equipment orders, one keyset page at a time ("load more" follows next_cursor). */
export function useOrderQueue(status: OrderStatus | undefined) {
  return useInfiniteQuery({
    queryKey: [...ordersKey, "queue", status ?? "all"],
    queryFn: ({ pageParam }) =>
      data(
        api.GET("/console/equipment-orders", {
          params: { query: { status, limit: PAGE_SIZE, after: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

export function useConsoleOrder(id: string) {
  return useQuery({
    queryKey: [...ordersKey, "detail", id],
    queryFn: () => data(api.GET("/console/equipment-orders/{id}", { params: { path: { id } } })),
  });
}

export function useChangeOrderStatus(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { status: OrderStatus; note: string }) =>
      data(api.POST("/console/equipment-orders/{id}/status", { params: { path: { id } }, body })),
    onSuccess: (changed) => {
      client.setQueryData([...ordersKey, "detail", id], changed.order);
    },
    // The queue (and a subscriber's ledger, after a refund) may have moved.
    onSettled: () => client.invalidateQueries({ queryKey: ["console"] }),
  });
}
