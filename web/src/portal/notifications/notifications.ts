import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";

const notificationsKey = ["me", "notifications"] as const;

/** The bell's list and unread count; refreshed every half minute and on focus. */
export function useMyNotifications() {
  return useQuery({
    queryKey: notificationsKey,
    queryFn: () => data(api.GET("/me/notifications", { params: { query: { limit: 20 } } })),
    refetchInterval: 30_000,
  });
}

/** Marks the given notifications read, or all of them without ids. */
export function useMarkNotificationsRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (ids?: string[]) => data(api.POST("/me/notifications/read", { body: { ids: ids ?? null } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: notificationsKey });
    },
  });
}
