import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { ApiError } from "./api/client";
import { markSignedOut } from "./shared/session/session";

export function createQueryClient(): QueryClient {
  // A 401 anywhere means the server-side session is gone (expired, signed out elsewhere):
  // forget it, and the area's SessionGate shows its sign-in form in place.
  const onError = (error: unknown) => {
    if (error instanceof ApiError && error.status === 401) markSignedOut(client);
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        // Client errors will not fix themselves by asking again.
        retry: (failures, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && failures < 2,
      },
    },
  });
  return client;
}
