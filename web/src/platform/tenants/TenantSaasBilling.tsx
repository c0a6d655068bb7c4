import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import { useFormat } from "../../shared/i18n/format";
import { Badge, type BadgeTone } from "../../shared/ui/Badge";
import "./tenant-billing.css";

const TONE: Record<"current" | "past_due" | "read_only" | "suspended", BadgeTone> = {
  current: "success",
  past_due: "warning",
  read_only: "danger",
  suspended: "danger",
};

/** An ISP's Kabinet payment standing in the operator's tenant list (its last invoice beside). */
export function TenantSaasBilling({ slug }: { slug: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const billing = useQuery({
    queryKey: ["platform", "tenants", slug, "billing"],
    queryFn: () => data(api.GET("/platform/tenants/{slug}/billing", { params: { path: { slug } } })),
    staleTime: 60_000,
  });
  if (!billing.data) return null;
  const last = billing.data.invoices[0];
  return (
    <div className="tenant-billing" data-testid="tenant-billing" data-state={billing.data.state}>
      <Badge tone={TONE[billing.data.state]}>{t(`saasPlans.billing.${billing.data.state}`)}</Badge>
      {last && (
        <span className="muted">
          {" "}
          {t("saasBilling.lastInvoice", {
            amount: format.money({ minor: last.amount_due, currency: last.currency }),
            status: last.payment_failed && last.status === "open"
              ? t("saasBilling.paymentFailed")
              : t(`saasBilling.invoiceStatus.${last.status}`),
          })}
        </span>
      )}
      {!billing.data.subscribed && <span className="muted"> {t("saasBilling.notSubscribed")}</span>}
    </div>
  );
}
