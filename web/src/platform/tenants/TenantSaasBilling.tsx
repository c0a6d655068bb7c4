import { useTranslation } from "react-i18next";
import type { TenantRow } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { Badge, type BadgeTone } from "../../shared/ui/Badge";
import "./tenant-billing.css";

type Summary = NonNullable<TenantRow["billing"]>;

const TONE: Record<Summary["state"], BadgeTone> = {
  current: "success",
  past_due: "warning",
  read_only: "danger",
  suspended: "danger",
};

/**
 * An ISP's Kabinet payment standing in the operator's tenant list (its card and last invoice
 * beside). The list answer carries it for every row: no request per row.
 */
export function TenantSaasBilling({ billing }: { billing: Summary | undefined }) {
  const { t } = useTranslation();
  const format = useFormat();
  if (!billing) return null;
  const last = billing.last_invoice;
  return (
    <div className="tenant-billing" data-testid="tenant-billing" data-state={billing.state}>
      <Badge tone={TONE[billing.state]}>{t(`saasPlans.billing.${billing.state}`)}</Badge>
      {last && (
        <span className="muted">
          {" "}
          {t("saasBilling.lastInvoice", {
            amount: format.money({ minor: last.amount_due, currency: last.currency }),
            status:
              last.payment_failed && last.status === "open"
                ? t("saasBilling.paymentFailed")
                : t(`saasBilling.invoiceStatus.${last.status}`),
          })}
        </span>
      )}
      {billing.subscribed ? (
        <span className="muted" data-testid="tenant-billing-card" data-card={billing.has_card}>
          {" "}
          · {billing.has_card ? t("saasBilling.hasCard") : t("saasBilling.noCard")}
        </span>
      ) : (
        <span className="muted"> {t("saasBilling.notSubscribed")}</span>
      )}
    </div>
  );
}
