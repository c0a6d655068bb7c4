import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router";
import { api, data } from "../../api/client";
import type { components } from "../../api/schema";
import { useFormat } from "../../shared/i18n/format";
import { useSession } from "../../shared/session/session";
import { Badge, type BadgeTone } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import "./saas-billing.css";

type SaasBilling = components["schemas"]["SaasBilling"];
type SaasCard = components["schemas"]["SaasBillingCard"];

/** Who may add or replace the subscription's card (the owner, built in). */
const SUBSCRIPTION_MANAGE = "subscription.manage";

const BRAND: Record<string, string> = {
  visa: "Visa",
  mastercard: "Mastercard",
  amex: "American Express",
  mir: "Мир",
  unionpay: "UnionPay",
  jcb: "JCB",
  discover: "Discover",
  diners: "Diners Club",
};
type InvoiceStatus = SaasBilling["invoices"][number]["status"];

const SAAS_BILLING_QUERY = ["console", "plan", "billing"] as const;

const STATE_TONE: Record<SaasBilling["state"], BadgeTone> = {
  current: "success",
  past_due: "warning",
  read_only: "danger",
  suspended: "danger",
};

const INVOICE_TONE: Record<InvoiceStatus, BadgeTone> = {
  draft: "neutral",
  open: "warning",
  paid: "success",
  uncollectible: "danger",
  void: "neutral",
};

/** The ISP's Kabinet subscription at Stripe: standing, daily usage reports, invoices. */
export function SaasBillingSection() {
  const { t } = useTranslation();
  const billing = useQuery({
    queryKey: SAAS_BILLING_QUERY,
    queryFn: () => data(api.GET("/console/plan/billing")),
  });
  return (
    <section className="card" aria-labelledby="saas-billing-title" data-testid="saas-billing">
      <h2 id="saas-billing-title">{t("saasBilling.title")}</h2>
      {billing.isPending && <Loading />}
      {billing.isError && (
        <ErrorNotice
          error={billing.error}
          onRetry={() => {
            void billing.refetch();
          }}
        />
      )}
      {billing.data && (
        <>
          <SaasCardPanel card={billing.data.card} />
          <SaasBillingDetails billing={billing.data} />
        </>
      )}
    </section>
  );
}

/** The card's parts for `Visa •••• 4242, exp 12/30`. */
function cardParts(card: SaasCard) {
  return {
    brand: BRAND[card.brand] ?? card.brand,
    last4: card.last4,
    exp: `${String(card.exp_month).padStart(2, "0")}/${String(card.exp_year % 100).padStart(2, "0")}`,
  };
}

/**
 * The card the subscription is charged to. The owner adds or replaces it on Stripe's hosted
 * page (Checkout in setup mode); coming back with `?card_session=…` the page asks Stripe for
 * the result once and drops the marker from the address.
 */
function SaasCardPanel({ card }: { card: SaasCard | undefined }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const mayManage = useSession().data?.permissions.includes(SUBSCRIPTION_MANAGE) ?? false;
  const [searchParams, setSearchParams] = useSearchParams();
  const [returned] = useState(() => searchParams.get("card_session"));
  const start = useMutation({
    mutationFn: () => data(api.POST("/console/plan/billing/card", {})),
    onSuccess: (link) => {
      window.location.assign(link.url);
    },
  });
  const complete = useMutation({
    mutationFn: (session: string) =>
      data(api.POST("/console/plan/billing/card/complete", { body: { session_id: session } })),
    onSuccess: (saved) => {
      client.setQueryData<SaasBilling>(SAAS_BILLING_QUERY, (old) => (old ? { ...old, card: saved } : old));
    },
  });
  const asked = useRef(false);
  useEffect(() => {
    if (!returned || asked.current || !mayManage) return;
    asked.current = true;
    complete.mutate(returned);
    setSearchParams({}, { replace: true });
  }, [returned, mayManage, complete, setSearchParams]);

  return (
    <div className="saas-card" data-testid="saas-card">
      <h3>{t("saasBilling.card.title")}</h3>
      {card ? (
        <p className="saas-card__summary" data-testid="saas-card-summary" data-last4={card.last4}>
          <span className="saas-card__chip" aria-hidden="true" />
          {t("saasBilling.card.summary", cardParts(card))}
        </p>
      ) : (
        <p className="muted" data-testid="saas-card-none">
          {t("saasBilling.card.none")}
        </p>
      )}
      {complete.isPending && (
        <p className="muted" role="status">
          {t("saasBilling.card.saving")}
        </p>
      )}
      {complete.isSuccess && (
        <p className="notice notice--success" role="status" data-testid="saas-card-saved">
          {t("saasBilling.card.saved")}
        </p>
      )}
      {complete.isError && <ErrorNotice error={complete.error} />}
      {start.isError && <ErrorNotice error={start.error} />}
      {mayManage ? (
        <div className="saas-card__actions">
          <button
            type="button"
            className={card ? "button" : "button button--primary"}
            disabled={start.isPending}
            onClick={() => {
              start.mutate();
            }}
            data-testid="saas-card-set"
          >
            {start.isPending ? t("saasBilling.card.opening") : card ? t("saasBilling.card.replace") : t("saasBilling.card.add")}
          </button>
        </div>
      ) : (
        <p className="muted">{t("saasBilling.card.ownerOnly")}</p>
      )}
    </div>
  );
}

/** Standing, reports and invoices; shared with the operator's tenant view. */
export function SaasBillingDetails({ billing }: { billing: SaasBilling }) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <div className="stack saas-billing">
      <p className="saas-billing__state">
        <Badge tone={STATE_TONE[billing.state]}>
          <span data-testid="saas-billing-state" data-state={billing.state}>
            {t(`saasPlans.billing.${billing.state}`)}
          </span>
        </Badge>{" "}
        {billing.payment_failed_at && (
          <span className="muted">
            {t("saasBilling.failedAt", { at: format.dateTime(billing.payment_failed_at) })}
          </span>
        )}{" "}
        {billing.next_step_at && (
          <span className="muted">{t("saasBilling.nextStep", { at: format.dateTime(billing.next_step_at) })}</span>
        )}
      </p>
      {!billing.subscribed && <p className="muted">{t("saasBilling.notSubscribed")}</p>}

      <h3>{t("saasBilling.invoices")}</h3>
      {billing.invoices.length === 0 ? (
        <p className="muted">{t("saasBilling.noInvoices")}</p>
      ) : (
        <div className="table-card">
          <table className="data-table" data-testid="saas-invoices">
            <thead>
              <tr>
                <th scope="col">{t("saasBilling.number")}</th>
                <th scope="col">{t("saasBilling.period")}</th>
                <th scope="col">{t("saasBilling.subscribers")}</th>
                <th scope="col">{t("saasBilling.amount")}</th>
                <th scope="col">{t("saasBilling.status")}</th>
              </tr>
            </thead>
            <tbody>
              {billing.invoices.map((invoice) => (
                <tr key={invoice.id} data-testid="saas-invoice" data-status={invoice.status}>
                  <td className="data-table__primary">
                    {invoice.hosted_invoice_url ? (
                      <a href={invoice.hosted_invoice_url} target="_blank" rel="noreferrer">
                        {invoice.number ?? invoice.id}
                      </a>
                    ) : (
                      (invoice.number ?? invoice.id)
                    )}
                  </td>
                  <td data-label={t("saasBilling.period")}>
                    {format.date(invoice.period_start)} — {format.date(invoice.period_end)}
                  </td>
                  <td data-label={t("saasBilling.subscribers")}>
                    {invoice.quantity === undefined ? "—" : format.number(invoice.quantity)}
                  </td>
                  <td data-label={t("saasBilling.amount")}>
                    {format.money({ minor: invoice.amount_due, currency: invoice.currency })}
                  </td>
                  <td data-label={t("saasBilling.status")}>
                    <Badge tone={invoice.payment_failed ? "danger" : INVOICE_TONE[invoice.status]}>
                      {invoice.payment_failed && invoice.status === "open"
                        ? t("saasBilling.paymentFailed")
                        : t(`saasBilling.invoiceStatus.${invoice.status}`)}
                    </Badge>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h3>{t("saasBilling.reports")}</h3>
      {billing.usage_reports.length === 0 ? (
        <p className="muted">{t("saasBilling.noReports")}</p>
      ) : (
        <div className="table-card">
          <table className="data-table" data-testid="saas-usage-reports">
            <thead>
              <tr>
                <th scope="col">{t("saasBilling.day")}</th>
                <th scope="col">{t("saasBilling.subscribers")}</th>
                <th scope="col">{t("saasBilling.sent")}</th>
              </tr>
            </thead>
            <tbody>
              {billing.usage_reports.map((report) => (
                <tr key={report.day} data-testid="saas-usage-report">
                  <td className="data-table__primary">{format.day(report.day)}</td>
                  <td data-label={t("saasBilling.subscribers")}>{format.number(report.active_subscribers)}</td>
                  <td data-label={t("saasBilling.sent")}>
                    {report.sent_at ? format.dateTime(report.sent_at) : t("saasBilling.pending")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
