import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { OnlinePayment } from "../../api/types";
import { refreshAccount } from "../account/account";

export const ledgerKey = ["me", "ledger"] as const;
const optionsKey = ["me", "payment-options"] as const;

/** Card payments: whether they are on, the limits, the saved card and auto-pay, the latest ones. */
export function usePaymentOptions() {
  return useQuery({ queryKey: optionsKey, queryFn: () => data(api.GET("/me/payment-options")) });
}

/** Starts a top-up: the answer names Stripe Checkout's page, where the caller sends the browser. */
export function useStartTopUp() {
  return useMutation({
    mutationFn: (body: { amount_minor: number; save_card: boolean }) =>
      data(api.POST("/me/payments/checkout", { body })),
  });
}

/** How often, and for how long, the page Checkout returns to asks whether the payment has settled. */
export const POLL_EVERY_MS = 1_000;
export const POLL_FOR_MS = 60_000;

/**
 * One online payment, polled while it is pending and `pollUntil` (a timestamp) has not passed.
 * Once it has settled, everything under ["me"] is read again before the answer is handed over,
 * so the balance on screen already includes it when the page says it arrived.
 */
export function useOnlinePayment(id: string | undefined, pollUntil: number, cancelled = false) {
  const client = useQueryClient();
  return useQuery({
    // Not under ["me"]: refreshing the account must not start this one again.
    queryKey: ["online-payment", id, cancelled] as const,
    enabled: id !== undefined,
    queryFn: async (): Promise<OnlinePayment> => {
      const path = { params: { path: { id: id ?? "" } } };
      // Back from Checkout with "cancel": close the session at Stripe so it cannot be paid
      // later (the answer says "succeeded" if it was paid in another tab after all).
      const payment = await data(
        cancelled
          ? api.POST("/me/payments/online/{id}/cancel", path)
          : api.GET("/me/payments/online/{id}", path),
      );
      if (payment.status !== "pending") await refreshAccount(client);
      return payment;
    },
    refetchInterval: (query) =>
      query.state.data?.status === "pending" && Date.now() < pollUntil ? POLL_EVERY_MS : false,
    refetchIntervalInBackground: true,
    retry: 2,
  });
}

export function useSetAutopay() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { enabled: boolean; threshold_minor: number; amount_minor: number }) =>
      data(api.PUT("/me/autopay", { body })),
    onSettled: () => refreshAccount(client),
  });
}

export function useForgetCard() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      await api.DELETE("/me/card");
    },
    onSettled: () => refreshAccount(client),
  });
}

/** What Stripe Checkout handed back in the address: `?payment=<id>` and `&cancelled=1` on cancel. */
export interface CheckoutReturn {
  id: string;
  cancelled: boolean;
  /** Until when to keep asking whether a pending payment has settled. */
  pollUntil: number;
}

export function readCheckoutReturn(search: URLSearchParams): CheckoutReturn | undefined {
  const id = search.get("payment")?.trim();
  if (!id) return undefined;
  const cancelled = search.get("cancelled") === "1";
  return { id, cancelled, pollUntil: cancelled ? 0 : Date.now() + POLL_FOR_MS };
}
