import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import type { Locale } from "../../api/types";

const PAGE_SIZE = 10;

/** The language on screen, as the API names it: posts written for the other one are left out. */
export function useReadingLocale(): Locale {
  const { i18n } = useTranslation();
  return i18n.resolvedLanguage === "ru" ? "ru" : "en";
}

/** The subscriber's news feed, one keyset page at a time ("show more" follows next_cursor). */
export function useNewsFeed() {
  const lang = useReadingLocale();
  return useInfiniteQuery({
    queryKey: ["me", "news", lang],
    queryFn: ({ pageParam }) =>
      data(api.GET("/me/news", { params: { query: { lang, limit: PAGE_SIZE, after: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

export function useNewsPost(id: string) {
  return useQuery({
    queryKey: ["me", "news", "post", id],
    queryFn: () => data(api.GET("/me/news/{id}", { params: { path: { id } } })),
  });
}
