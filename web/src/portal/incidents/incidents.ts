import { useQuery } from "@tanstack/react-query";
import { api, data } from "../../api/client";

/** Active outages covering the signed-in subscriber (refreshed every minute while shown). */
export function useMyIncidents() {
  return useQuery({
    queryKey: ["portal", "incidents"],
    queryFn: () => data(api.GET("/me/incidents")),
    refetchInterval: 60_000,
  });
}
