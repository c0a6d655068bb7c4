import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, ApiError, data, setCsrfToken } from "../../api/client";
import type { LoginResult, SecondFactorChallenge, SessionInfo } from "../../api/types";

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

function adoptSession(client: QueryClient, session: SessionInfo) {
  setCsrfToken(session.csrf_token);
  forgetPrincipalData(client);
  client.setQueryData(sessionKey, session);
}

/** Whether the password step answered with a challenge (the account has a second factor). */
export function isSecondFactorChallenge(result: SessionInfo | LoginResult): result is SecondFactorChallenge {
  return "outcome" in result && result.outcome === "second_factor_required";
}

/**
 * A sign-in mutation for any of the three login endpoints. A subscriber's or staff member's
 * password may lead to a second-factor challenge instead of a session: the caller tells with
 * `isSecondFactorChallenge(result)` and continues with `useSecondFactor`.
 */
export function useSignIn<Credentials>(login: (credentials: Credentials) => Promise<SessionInfo | LoginResult>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: login,
    onSuccess: (result) => {
      if (isSecondFactorChallenge(result)) return;
      adoptSession(client, result);
    },
  });
}

/** The second step of a sign-in: the challenge and a code from the app or a recovery code. */
export function useSecondFactor() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { challenge: string; code: string }) => data(api.POST("/auth/login/second-factor", { body })),
    onSuccess: (session) => {
      adoptSession(client, session);
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
