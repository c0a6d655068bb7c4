import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { ManualPayment } from "../../api/types";
import { useSession } from "../../shared/session/session";

export const BILLING_READ = "billing.read";
export const BILLING_WRITE = "billing.write";

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
