import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useLocation, useNavigate } from "react-router";
import { useFormat } from "../../shared/i18n/format";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { useDashboard } from "../dashboard/dashboard";
import { useOnlinePayment, type CheckoutReturn } from "./payments";

type View = "checking" | "slow" | "succeeded" | "failed" | "expired" | "cancelled";

/**
 * The banner on top of the payments page after Checkout: "checking" while the webhook has not
 * arrived yet, then how it ended. Once it has ended, the address loses its query so that a
 * reload does not show it again.
 */
export function PaymentReturnBanner({ checkout, onDismiss }: { checkout: CheckoutReturn; onDismiss: () => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const payment = useOnlinePayment(checkout.id, checkout.pollUntil, checkout.cancelled);
  const balance = useDashboard().data?.account.balance;
  const [timedOut, setTimedOut] = useState(checkout.pollUntil === 0);
  const navigate = useNavigate();
  const location = useLocation();

  useEffect(() => {
    if (checkout.pollUntil === 0) return;
    const timer = window.setTimeout(
      () => {
        setTimedOut(true);
      },
      Math.max(0, checkout.pollUntil - Date.now()),
    );
    return () => {
      window.clearTimeout(timer);
    };
  }, [checkout.pollUntil]);

  const status = payment.data?.status;
  let view: View;
  if (status === "succeeded" || status === "failed") view = status;
  else if (checkout.cancelled && (status === "pending" || status === "expired")) view = "cancelled";
  else if (status === "expired") view = "expired";
  else view = timedOut && status === "pending" ? "slow" : "checking";
  const settled = payment.isError || (view !== "checking" && view !== "slow");

  const { pathname, search, hash } = location;
  useEffect(() => {
    if (!settled) return;
    const params = new URLSearchParams(search);
    if (!params.has("payment") && !params.has("cancelled")) return;
    params.delete("payment");
    params.delete("cancelled");
    const rest = params.toString();
    void navigate({ pathname, search: rest ? `?${rest}` : "", hash }, { replace: true });
  }, [settled, navigate, pathname, search, hash]);

  if (payment.isError) return <ErrorNotice error={payment.error} />;

  const tone = {
    checking: "info",
    slow: "warning",
    succeeded: "success",
    failed: "error",
    expired: "warning",
    cancelled: "warning",
  }[view];
  const amount = payment.data ? format.money(payment.data.amount) : "";

  let headline: string;
  let text: string;
  switch (view) {
    case "succeeded":
      headline = t("portal.payments.returned.succeeded", { amount });
      text = balance ? t("portal.payments.returned.balanceNow", { balance: format.money(balance) }) : "";
      break;
    case "failed": {
      const failure = payment.data?.failure?.trim();
      headline = t("portal.payments.returned.failed") + (failure ? `: ${failure}` : "");
      text = t("portal.payments.returned.failedText");
      break;
    }
    default:
      headline = t(`portal.payments.returned.${view}`);
      text = t(`portal.payments.returned.${view}Text`);
  }

  return (
    <div
      className={`notice notice--${tone} payment-return`}
      role={view === "failed" ? "alert" : "status"}
      aria-live="polite"
      data-testid="payment-return"
      data-status={view}
      data-payment-id={checkout.id}
    >
      <div className="payment-return__body">
        {view === "checking" && <span className="payment-return__spinner" aria-hidden="true" />}
        <div>
          <p className="notice__headline payment-return__headline" data-testid="payment-return-headline">
            {headline}
          </p>
          {text && <p>{text}</p>}
        </div>
      </div>
      {settled && (
        <button type="button" className="button button--ghost button--small" onClick={onDismiss}>
          {t("portal.payments.returned.dismiss")}
        </button>
      )}
    </div>
  );
}
