import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { ResetAudience } from "../../api/types";
import { sessionKey } from "../session/session";

/** Asks for a reset link; the answer is the same whether or not the account exists. */
export function useRequestPasswordReset() {
  return useMutation({
    mutationFn: async (body: { audience: ResetAudience; login: string }) => {
      await api.POST("/auth/password-reset", { body });
    },
  });
}

/** Sets the new password with the link's token. Every session of that account ends. */
export function useCompletePasswordReset() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { token: string; new_password: string }) =>
      data(api.POST("/auth/password-reset/complete", { body })),
    // If this browser was signed in as that account, that session has just ended too.
    onSuccess: () => client.invalidateQueries({ queryKey: sessionKey }),
  });
}
