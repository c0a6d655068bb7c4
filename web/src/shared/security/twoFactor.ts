import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";

/** Whose second factor: the signed-in subscriber's (`/me/…`) or staff member's (`/console/me/…`). */
export type SecurityAudience = "subscriber" | "staff";

const statusKey = (audience: SecurityAudience) => ["two-factor", audience] as const;

export function useTwoFactorStatus(audience: SecurityAudience) {
  return useQuery({
    queryKey: statusKey(audience),
    queryFn: () =>
      audience === "staff" ? data(api.GET("/console/me/two-factor")) : data(api.GET("/me/two-factor")),
  });
}

/** Starts the setup (password again): a new secret and its QR code, shown once. */
export function useStartTwoFactor(audience: SecurityAudience) {
  return useMutation({
    mutationFn: (body: { password: string }) =>
      audience === "staff"
        ? data(api.POST("/console/me/two-factor/enrollment", { body }))
        : data(api.POST("/me/two-factor/enrollment", { body })),
  });
}

/** Turns it on with a code from the app; answers with the recovery codes. */
export function useConfirmTwoFactor(audience: SecurityAudience) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { code: string }) =>
      audience === "staff"
        ? data(api.POST("/console/me/two-factor/confirm", { body }))
        : data(api.POST("/me/two-factor/confirm", { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: statusKey(audience) }),
  });
}

export function useDisableTwoFactor(audience: SecurityAudience) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: { password: string }) => {
      if (audience === "staff") await api.POST("/console/me/two-factor/disable", { body });
      else await api.POST("/me/two-factor/disable", { body });
    },
    onSuccess: () => client.invalidateQueries({ queryKey: statusKey(audience) }),
  });
}

export function useRegenerateRecoveryCodes(audience: SecurityAudience) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { code: string }) =>
      audience === "staff"
        ? data(api.POST("/console/me/two-factor/recovery-codes", { body }))
        : data(api.POST("/me/two-factor/recovery-codes", { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: statusKey(audience) }),
  });
}

/** "123 456" → "123456": what people type, as the server reads it. */
export function cleanCode(raw: string): string {
  return raw.replace(/[\s-]/g, "");
}

/** The secret in groups of four, as authenticator apps show keys. */
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, "$1 ");
}

/** A plain-text file of recovery codes to keep. */
export function recoveryCodesFile(title: string, note: string, codes: readonly string[]): Blob {
  const text = [title, "", ...codes, "", note, ""].join("\n");
  return new Blob([text], { type: "text/plain;charset=utf-8" });
}
