import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { NewsInput } from "../../api/types";

export const NEWS_MANAGE = "news.manage";

const newsKey = ["console", "news"] as const;

/** Every post, pinned first, then by publication time; "load more" follows next_cursor. */
export function useConsoleNews() {
  return useInfiniteQuery({
    queryKey: [...newsKey, "list"],
    queryFn: ({ pageParam }) => data(api.GET("/console/news", { params: { query: { limit: 25, after: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

export function useConsolePost(id: string | undefined) {
  return useQuery({
    queryKey: [...newsKey, "post", id],
    queryFn: () => data(api.GET("/console/news/{id}", { params: { path: { id: id ?? "" } } })),
    enabled: id !== undefined,
  });
}

/** The tariffs a post can be aimed at. */
export function useNewsTargets() {
  return useQuery({
    queryKey: [...newsKey, "targets"],
    queryFn: () => data(api.GET("/console/news/tariffs")),
    staleTime: 5 * 60_000,
  });
}

/** Creates a post (no id) or replaces one. */
export function useSavePost(id: string | undefined) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: NewsInput) =>
      id === undefined
        ? data(api.POST("/console/news", { body }))
        : data(api.PUT("/console/news/{id}", { params: { path: { id } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: newsKey }),
  });
}

/** Takes a post down (`false`) or puts it back (`true`). */
export function useSetPublished() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, published }: { id: string; published: boolean }) =>
      published
        ? data(api.POST("/console/news/{id}/publish", { params: { path: { id } } }))
        : data(api.POST("/console/news/{id}/unpublish", { params: { path: { id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: newsKey }),
  });
}
