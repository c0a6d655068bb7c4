import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, ApiError, data, setCsrfToken } from "../../api/client";
import type { SessionInfo } from "../../api/types";

export const sessionKey = ["session"] as const;

async function fetchSession(): Promise<SessionInfo | null> {
  try {
    const session = await data(api.GET("/session"));
    setCsrfToken(session.csrf_token);
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      setCsrfToken(null);
      return null;
    }
    throw error;
  }
}

export function useSession() {
  return useQuery({ queryKey: sessionKey, queryFn: fetchSession, staleTime: 5 * 60_000 });
}

/** Drop everything cached for the previous principal; the site itself stays. */
function forgetPrincipalData(client: QueryClient) {
  client.removeQueries({ predicate: (q) => q.queryKey[0] !== "site" && q.queryKey[0] !== sessionKey[0] });
}

export function markSignedOut(client: QueryClient) {
  setCsrfToken(null);
  client.setQueryData(sessionKey, null);
}

/** A sign-in mutation for any of the three login endpoints. */
export function useSignIn<Credentials>(login: (credentials: Credentials) => Promise<SessionInfo>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: login,
    onSuccess: (session) => {
      setCsrfToken(session.csrf_token);
      forgetPrincipalData(client);
      client.setQueryData(sessionKey, session);
    },
  });
}

export function useSignOut() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => data(api.POST("/auth/logout")),
    // Even if the server call fails the visitor asked to leave: forget the session locally.
    onSettled: () => {
      forgetPrincipalData(client);
      markSignedOut(client);
    },
  });
}

/** Ends every session of this principal, this one too; the app falls back to the sign-in page. */
export function useSignOutEverywhere() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => data(api.POST("/auth/logout-everywhere")),
    onSuccess: () => {
      forgetPrincipalData(client);
      markSignedOut(client);
    },
  });
}
