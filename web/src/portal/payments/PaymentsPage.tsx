import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router";
import { api, data } from "../../api/client";
import { LedgerTable } from "../../shared/billing/LedgerTable";
import { ACCOUNT_STATUS_TONE } from "../../shared/billing/status";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useDashboard } from "../dashboard/dashboard";
import { AutopayCard } from "./AutopayCard";
import { OnlinePayments } from "./OnlinePayments";
import { PaymentReturnBanner } from "./PaymentReturn";
import { ledgerKey, readCheckoutReturn, usePaymentOptions } from "./payments";
import { TopUpCard } from "./TopUpCard";
import "./payments.css";

/**
 * The subscriber's balance, card top-up and auto-pay, the latest card payments, and every
 * payment and charge, newest first.
 */
export function PaymentsPage() {
  const { t } = useTranslation();
  const format = useFormat();
  usePageTitle(t("portal.payments.title"));
  const ledger = useQuery({ queryKey: ledgerKey, queryFn: () => data(api.GET("/me/ledger")) });
  const options = usePaymentOptions();
  // The balance above the list; the list is what matters, so a failure here only hides it.
  const dashboard = useDashboard().data;
  const account = dashboard?.account;
  const nextCharge = dashboard?.next_charge.amount;
  // Back from Stripe Checkout: kept here, as the address loses it once the payment has settled.
  const [searchParams] = useSearchParams();
  const [checkout, setCheckout] = useState(() => readCheckoutReturn(searchParams));

  return (
    <div className="stack" data-testid="payments-page">
      <header className="page-header page-header--row">
        <h1>{t("portal.payments.title")}</h1>
        {account && (
          <p className="balance-line" data-testid="payments-balance" data-minor={account.balance.minor}>
            <span className="muted">{t("portal.payments.balance")}</span>
            <strong className={account.balance.minor < 0 ? "balance-line__value--negative" : undefined}>
              {format.money(account.balance)}
            </strong>
            <Badge tone={ACCOUNT_STATUS_TONE[account.status]} testId="payments-account-status">
              {t(`account.status.${account.status}`)}
            </Badge>
          </p>
        )}
      </header>

      {checkout && (
        <PaymentReturnBanner
          key={checkout.id}
          checkout={checkout}
          onDismiss={() => {
            setCheckout(undefined);
          }}
        />
      )}

      {options.isPending && <Loading />}
      {options.isError && (
        <ErrorNotice
          error={options.error}
          onRetry={() => {
            void options.refetch();
          }}
        />
      )}
      {options.data && (
        <div className="payments-grid">
          <TopUpCard options={options.data} nextCharge={nextCharge} accountNumber={dashboard?.subscriber.account_number} />
          {(options.data.online || options.data.autopay.card) && (
            <AutopayCard options={options.data} nextCharge={nextCharge} />
          )}
        </div>
      )}
      {options.data && options.data.recent.length > 0 && <OnlinePayments items={options.data.recent} />}

      {ledger.isPending && <Loading />}
      {ledger.isError && (
        <ErrorNotice
          error={ledger.error}
          onRetry={() => {
            void ledger.refetch();
          }}
        />
      )}
      {ledger.data && ledger.data.items.length === 0 && (
        <p className="card empty-state" data-testid="ledger-empty">
          {t("portal.payments.empty")}
        </p>
      )}
      {ledger.data && ledger.data.items.length > 0 && (
        <section className="card table-card" aria-label={t("portal.payments.history")}>
          <h2 className="table-card__title">{t("portal.payments.history")}</h2>
          <LedgerTable items={ledger.data.items} />
        </section>
      )}
    </div>
  );
}
