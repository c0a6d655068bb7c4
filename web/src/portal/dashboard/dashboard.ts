import { useQuery } from "@tanstack/react-query";
import { api, data } from "../../api/client";

const dashboardKey = ["me", "dashboard"] as const;

export function useDashboard() {
  return useQuery({
    queryKey: dashboardKey,
    queryFn: () => data(api.GET("/me/dashboard")),
  });
}
