import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { BalanceChanged, CorrectionRequest, ManualPayment } from "../../api/types";
import { useSession } from "../../shared/session/session";

export const BILLING_READ = "billing.read";
export const BILLING_WRITE = "billing.write";
export const SETTINGS_MANAGE = "settings.manage";

const ledgerKey = (accountNumber: string) => ["console", "subscribers", accountNumber, "ledger"] as const;

/** Whether the signed-in staff member's role grants `permission` (the API checks it again). */
export function useHasPermission(permission: string): boolean {
  return useSession().data?.permissions.includes(permission) ?? false;
}

export function useSubscriberLedger(accountNumber: string, enabled: boolean) {
  return useQuery({
    queryKey: ledgerKey(accountNumber),
    queryFn: () =>
      data(api.GET("/console/subscribers/{account_number}/ledger", { params: { path: { account_number: accountNumber } } })),
    enabled,
  });
}

export function useRecordPayment(accountNumber: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (payment: ManualPayment) =>
      data(
        api.POST("/console/subscribers/{account_number}/payments", {
          params: { path: { account_number: accountNumber } },
          body: payment,
        }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ledgerKey(accountNumber) });
    },
  });
}

export type { BalanceChanged };

const correctBalance = (accountNumber: string, body: CorrectionRequest): Promise<BalanceChanged> =>
  data(
    api.POST("/console/subscribers/{account_number}/corrections", {
      params: { path: { account_number: accountNumber } },
      body,
    }),
  );

/** Credits or debits the balance with a reason; the ledger and summary refresh after it. */
export function useCorrectBalance(accountNumber: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: CorrectionRequest) => correctBalance(accountNumber, body),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ledgerKey(accountNumber) });
    },
  });
}

/** Reverses one movement in full (a card payment is refunded to the card). */
export function useReverseMovement(accountNumber: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ transaction, reason }: { transaction: string; reason: string }) =>
      data(
        api.POST("/console/subscribers/{account_number}/movements/{transaction}/reversal", {
          params: { path: { account_number: accountNumber, transaction } },
          body: { reason },
        }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ledgerKey(accountNumber) });
    },
  });
}

/** This month so far as a PDF or CSV statement of the subscriber, for staff to hand over. */
export function statementUrl(accountNumber: string, kind: "pdf" | "csv", language: string): string {
  const query = kind === "pdf" ? `?lang=${language.startsWith("ru") ? "ru" : "en"}` : "";
  return `/api/v1/console/subscribers/${encodeURIComponent(accountNumber)}/statement.${kind}${query}`;
}
