import { useQuery } from "@tanstack/react-query";
import { useCallback } from "react";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import { BUILT_IN_CATEGORIES, type BuiltInCategory } from "../../api/types";

/** A ticket category as pickers and labels need it. */
export interface CategoryOption {
  code: string;
  kind: string;
  name: string;
  active: boolean;
}

export const categoriesKey = ["ticket-categories"] as const;

function isBuiltIn(code: string): code is BuiltInCategory {
  return (BUILT_IN_CATEGORIES as readonly string[]).includes(code);
}

/**
 * The ISP's ticket categories in its order (switched-off ones too: old tickets keep them) and
 * `name(code)`: the ISP's name for it in the UI language. Built-ins fall back to the app's own
 * translation until the list arrives; an unknown code shows as itself. One hook for both areas:
 * the subscriber reads `/me/ticket-categories`, staff `/console/ticket-categories`.
 */
export function useTicketCategories(audience: "subscriber" | "staff") {
  const { t, i18n } = useTranslation();
  const lang = i18n.language.startsWith("en") ? "en" : "ru";
  const query = useQuery({
    queryKey: [...categoriesKey, audience, lang],
    staleTime: 60_000,
    queryFn: async (): Promise<CategoryOption[]> => {
      if (audience === "subscriber") {
        const list = await data(
          api.GET("/me/ticket-categories", { params: { query: { lang, include_inactive: true } } }),
        );
        return list.items;
      }
      const list = await data(api.GET("/console/ticket-categories"));
      return list.items.map((c) => ({
        code: c.code,
        kind: c.kind,
        name: lang === "en" ? c.display_name_en : c.display_name_ru,
        active: c.active,
      }));
    },
  });
  const items = query.data;
  const name = useCallback(
    (code: string): string => {
      const found = items?.find((c) => c.code === code);
      if (found) return found.name;
      return isBuiltIn(code) ? t(`ticket.categories.${code}`) : code;
    },
    [items, t],
  );
  const fallback: CategoryOption[] = BUILT_IN_CATEGORIES.map((code) => ({
    code,
    kind: code,
    name: t(`ticket.categories.${code}`),
    active: true,
  }));
  return {
    /** Every category (built-ins until the list arrives). */
    all: items ?? fallback,
    /** Those a new ticket (or a new setting) may use. */
    active: (items ?? fallback).filter((c) => c.active),
    name,
    query,
  };
}
