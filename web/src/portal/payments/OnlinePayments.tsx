import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { OnlinePayment, OnlinePaymentStatus } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { Badge, type BadgeTone } from "../../shared/ui/Badge";

const STATUS_TONE: Record<OnlinePaymentStatus, BadgeTone> = {
  pending: "info",
  succeeded: "success",
  failed: "danger",
  expired: "neutral",
};

/** The latest card payments (top-ups and auto-pay), newest first, with how each one ended. */
export function OnlinePayments({ items }: { items: readonly OnlinePayment[] }) {
  const { t } = useTranslation();
  const format = useFormat();
  const id = useId();
  return (
    <section className="card table-card" aria-labelledby={`${id}-title`} data-testid="online-payments">
      <h2 className="table-card__title" id={`${id}-title`}>
        {t("portal.payments.recent.title")}
      </h2>
      <ul className="plain-list online-payments">
        {items.map((payment) => (
          <li
            key={payment.id}
            className="online-payment"
            data-testid="online-payment-row"
            data-payment-id={payment.id}
            data-status={payment.status}
            data-purpose={payment.purpose}
          >
            <span className="online-payment__what">
              <span className="online-payment__purpose">{t(`portal.payments.recent.purposes.${payment.purpose}`)}</span>
              <time className="online-payment__date" dateTime={payment.created_at}>
                {format.dateTime(payment.created_at)}
              </time>
              {payment.status === "failed" && payment.failure && (
                <span className="online-payment__failure">{payment.failure}</span>
              )}
            </span>
            <span className="online-payment__result">
              <strong className="online-payment__amount">{format.money(payment.amount)}</strong>
              <Badge tone={STATUS_TONE[payment.status]} testId="online-payment-status">
                {t(`portal.payments.recent.statuses.${payment.status}`)}
              </Badge>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
