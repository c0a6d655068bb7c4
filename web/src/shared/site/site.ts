import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { api, data } from "../../api/client";
import type { Branding } from "../../api/types";
import { adoptDefaultLocale } from "../i18n";

export const siteQuery = {
  queryKey: ["site"] as const,
  queryFn: async () => {
    const site = await data(api.GET("/site"));
    // Before the first screen renders, so the page does not flash in the wrong language.
    adoptDefaultLocale(site.branding?.default_locale);
    return site;
  },
  // Which ISP this host belongs to does not change while the page is open.
  staleTime: Infinity,
};

export function useSite() {
  return useQuery(siteQuery);
}

/** The ISP's branding; undefined on the platform host. */
export function useBranding(): Branding | undefined {
  return useSite().data?.branding;
}

function setColor(name: string, value: string | undefined) {
  const root = document.documentElement.style;
  if (value && CSS.supports("color", value)) root.setProperty(name, value);
  else root.removeProperty(name);
}

/** Text on a brand-coloured surface must stay readable whatever colour the ISP picked. */
function readableOn(color: string): string {
  const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color.trim());
  if (!match) return "#ffffff";
  const [r, g, b] = match.slice(1).map((h) => {
    const c = parseInt(h, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.4 ? "#111827" : "#ffffff";
}

export function useApplyBranding(branding: Branding | undefined) {
  useEffect(() => {
    setColor("--brand-primary", branding?.primary_color);
    setColor("--brand-accent", branding?.accent_color);
    setColor("--brand-on-primary", branding ? readableOn(branding.primary_color) : undefined);
    document.querySelector('meta[name="theme-color"]')?.setAttribute("content", branding?.primary_color ?? "#1f5fbf");
  }, [branding]);
}

/** `Page · ISP` in the tab, so a subscriber with several tabs finds the right one. */
export function usePageTitle(page: string | undefined) {
  const site = useSite().data;
  const owner = site?.branding?.name ?? "Kabinet";
  useEffect(() => {
    document.title = page ? `${page} · ${owner}` : owner;
  }, [page, owner]);
}
