import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { ImportEncoding, NewSubscriber, SubscriberUpdate } from "../../api/types";

export const SUBSCRIBERS_READ = "subscribers.read";
export const SUBSCRIBERS_WRITE = "subscribers.write";

const subscribersKey = ["console", "subscribers"] as const;

/** Search results for `q` (everyone when empty); "load more" follows next_cursor. */
export function useSubscriberSearch(q: string) {
  return useInfiniteQuery({
    queryKey: [...subscribersKey, "search", q],
    queryFn: ({ pageParam }) =>
      data(api.GET("/console/subscribers", { params: { query: { q: q === "" ? undefined : q, limit: 25, after: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

export function useSubscriber(accountNumber: string, enabled: boolean) {
  return useQuery({
    queryKey: [...subscribersKey, "one", accountNumber],
    queryFn: () =>
      data(api.GET("/console/subscribers/{account_number}", { params: { path: { account_number: accountNumber } } })),
    enabled,
  });
}

/** The ISP's active tariffs, for the subscriber forms. */
export function useTariffChoices() {
  return useQuery({
    queryKey: [...subscribersKey, "tariffs"],
    queryFn: () => data(api.GET("/console/tariff-choices")),
    staleTime: 5 * 60_000,
  });
}

export function useCreateSubscriber() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: NewSubscriber) => data(api.POST("/console/subscribers", { body })),
    onSettled: () => client.invalidateQueries({ queryKey: subscribersKey }),
  });
}

export function useUpdateSubscriber(accountNumber: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: SubscriberUpdate) =>
      data(api.PUT("/console/subscribers/{account_number}", { params: { path: { account_number: accountNumber } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: ["console", "subscribers"] }),
  });
}

export function useSetBlock(accountNumber: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (blocked: boolean) =>
      data(
        api.PUT("/console/subscribers/{account_number}/block", {
          params: { path: { account_number: accountNumber } },
          body: { blocked },
        }),
      ),
    // The ledger page shows the status too.
    onSettled: () => client.invalidateQueries({ queryKey: ["console", "subscribers"] }),
  });
}

export function useInvite(accountNumber: string) {
  return useMutation({
    mutationFn: async () => {
      await api.POST("/console/subscribers/{account_number}/invitation", {
        params: { path: { account_number: accountNumber } },
      });
    },
  });
}

/** Sends the file as the request body, streamed by the browser; the report comes back. */
export function useImport() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ file, dryRun, encoding }: { file: File; dryRun: boolean; encoding: ImportEncoding }) =>
      data(
        api.POST("/console/subscribers/import", {
          params: { query: { dry_run: dryRun, encoding } },
          // The spec's body is binary: the File goes as it is, not as JSON.
          body: file as unknown as string,
          bodySerializer: (body: unknown) => body as BodyInit,
          headers: { "Content-Type": "text/csv" },
        }),
      ),
    onSuccess: (report) => {
      if (report.committed) void client.invalidateQueries({ queryKey: subscribersKey });
    },
  });
}
