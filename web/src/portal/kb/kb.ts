import { useInfiniteQuery, useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, data } from "../../api/client";
import { useReadingLocale } from "../news/news";

const PAGE_SIZE = 20;

/** `value`, once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const handle = window.setTimeout(() => {
      setSettled(value);
    }, ms);
    return () => {
      window.clearTimeout(handle);
    };
  }, [value, ms]);
  return settled;
}

/** Published articles in the language on screen, newest change first. */
export function useKbArticles() {
  const lang = useReadingLocale();
  return useInfiniteQuery({
    queryKey: ["me", "kb", "list", lang],
    queryFn: ({ pageParam }) =>
      data(api.GET("/me/kb", { params: { query: { lang, limit: PAGE_SIZE, after: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

export function useKbArticle(id: string) {
  return useQuery({
    queryKey: ["me", "kb", "article", id],
    queryFn: () => data(api.GET("/me/kb/{id}", { params: { path: { id } } })),
  });
}

/**
 * Articles for `text`: `all` words (the KB page's search box) or `any` word (suggestions
 * while a ticket is written). Nothing is asked for text shorter than three characters.
 */
export function useKbSearch(text: string, match: "all" | "any", limit = 10) {
  const lang = useReadingLocale();
  const q = text.trim();
  return useQuery({
    queryKey: ["me", "kb", "search", match, lang, q, limit],
    queryFn: () => data(api.GET("/me/kb/search", { params: { query: { q, lang, match, limit } } })),
    enabled: q.length >= 3,
    placeholderData: (previous) => previous,
  });
}

/** What on the subscriber's account explains a problem (blocked for debt, suspended). */
export function useDiagnosis() {
  return useQuery({
    queryKey: ["me", "support", "diagnosis"],
    queryFn: () => data(api.GET("/me/support/diagnosis")),
  });
}

export type DeflectionEvent =
  | { kind: "article"; article_id: string }
  | { kind: "self_fix"; fix: "pay" | "resume" };

/** Records that the subscriber opened a suggestion or followed a fix from the form. */
export function useRecordDeflection(formSession: string) {
  return useMutation({
    mutationFn: (event: DeflectionEvent) =>
      data(
        api.POST("/me/support/deflections", {
          body: {
            form_session: formSession,
            kind: event.kind,
            article_id: event.kind === "article" ? event.article_id : null,
            fix: event.kind === "self_fix" ? event.fix : null,
          },
        }),
      ),
  });
}

/** The ticket was sent anyway: which articles the form had suggested. */
export async function recordSuggestions(ticket: string, formSession: string, shown: readonly string[]) {
  await api.POST("/me/tickets/{id}/suggestions", {
    params: { path: { id: ticket } },
    body: { form_session: formSession, shown_article_ids: [...shown] },
  });
}
