import type { TFunction } from "i18next";
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

/** The same floor the server applies (10 to 1024 characters). */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 1024;

export type PasswordProblems = Partial<Record<"password" | "repeat", string>>;

/** What is wrong with a new password and its repetition, as the server would judge it. */
export function passwordProblems(t: TFunction, password: string, repeat: string): PasswordProblems {
  const length = Array.from(password).length; // code points, as the server counts
  if (length < PASSWORD_MIN) return { password: t("portal.profile.password.problems.tooShort", { min: PASSWORD_MIN }) };
  if (length > PASSWORD_MAX) return { password: t("portal.profile.password.problems.tooLong", { max: PASSWORD_MAX }) };
  if (repeat !== password) return { repeat: t("portal.profile.password.problems.mismatch") };
  return {};
}
