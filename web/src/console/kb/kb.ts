import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";

export const KB_MANAGE = "kb.manage";

const kbKey = ["console", "kb"] as const;

export interface KbInput {
  title: string;
  body: string;
  locale: "ru" | "en";
  category: string | null;
  published: boolean;
}

/** Every article, drafts included, newest change first; "load more" follows next_cursor. */
export function useConsoleKb() {
  return useInfiniteQuery({
    queryKey: [...kbKey, "list"],
    queryFn: ({ pageParam }) => data(api.GET("/console/kb", { params: { query: { limit: 50, after: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

export function useConsoleKbArticle(id: string | undefined) {
  return useQuery({
    queryKey: [...kbKey, "article", id],
    queryFn: () => data(api.GET("/console/kb/{id}", { params: { path: { id: id ?? "" } } })),
    enabled: id !== undefined,
  });
}

/** Creates an article (no id) or replaces one. */
export function useSaveKbArticle(id: string | undefined) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: KbInput) =>
      id === undefined
        ? data(api.POST("/console/kb", { body }))
        : data(api.PUT("/console/kb/{id}", { params: { path: { id } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: kbKey }),
  });
}

/** Full-text search over the ISP's tickets (`q` at least two characters). */
export function useTicketSearch(q: string) {
  const query = q.trim();
  return useInfiniteQuery({
    queryKey: ["console", "tickets", "search", query],
    queryFn: ({ pageParam }) =>
      data(api.GET("/console/tickets/search", { params: { query: { q: query, limit: 20, after: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    enabled: query.length >= 2,
  });
}
