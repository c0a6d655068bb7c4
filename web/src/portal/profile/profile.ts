import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";

const sessionsKey = ["me", "sessions"] as const;

/** The subscriber's signed-in devices, this one included. */
export function useMySessions() {
  return useQuery({
    queryKey: sessionsKey,
    queryFn: () => data(api.GET("/me/sessions")),
  });
}

export function useEndSession() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      await api.DELETE("/me/sessions/{id}", { params: { path: { id } } });
    },
    onSettled: () => client.invalidateQueries({ queryKey: sessionsKey }),
  });
}

export function useChangePassword() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { current_password: string; new_password: string }) =>
      data(api.POST("/me/password", { body })),
    // Every other device has been signed out.
    onSettled: () => client.invalidateQueries({ queryKey: sessionsKey }),
  });
}

/** The same floor the server applies (10 to 1024 characters). */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 1024;

export interface DeviceSummary {
  browser?: string;
  os?: string;
}

const BROWSERS: [RegExp, string][] = [
  [/YaBrowser\//, "Yandex Browser"],
  [/Edg(e|A|iOS)?\//, "Edge"],
  [/OPR\/|Opera/, "Opera"],
  [/SamsungBrowser\//, "Samsung Internet"],
  [/Firefox\/|FxiOS\//, "Firefox"],
  [/Chrome\/|CriOS\/|Chromium\//, "Chrome"],
  [/Version\/[\d.]+.*Safari\//, "Safari"],
  [/curl\//, "curl"],
];

const SYSTEMS: [RegExp, string][] = [
  [/Windows/, "Windows"],
  [/Android/, "Android"],
  [/iPhone|iPad|iPod/, "iOS"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/CrOS/, "ChromeOS"],
  [/Linux|X11/, "Linux"],
];

/** "Mozilla/5.0 (X11; Linux x86_64) … Chrome/126 …" → { browser: "Chrome", os: "Linux" }. */
export function summarizeUserAgent(userAgent: string | undefined): DeviceSummary {
  if (!userAgent) return {};
  return {
    browser: BROWSERS.find(([re]) => re.test(userAgent))?.[1],
    os: SYSTEMS.find(([re]) => re.test(userAgent))?.[1],
  };
}
