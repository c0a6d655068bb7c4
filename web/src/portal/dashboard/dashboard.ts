import { useQuery } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import { useReadingLocale } from "../news/news";

/** The dashboard, with the latest news in the language on screen. */
export function useDashboard() {
  const lang = useReadingLocale();
  return useQuery({
    queryKey: ["me", "dashboard", lang],
    queryFn: () => data(api.GET("/me/dashboard", { params: { query: { lang } } })),
  });
}
