import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import { LedgerTable } from "../../shared/billing/LedgerTable";
import { ACCOUNT_STATUS_TONE } from "../../shared/billing/status";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useDashboard } from "../dashboard/dashboard";

const ledgerKey = ["me", "ledger"] as const;

/** The subscriber's payments and charges, newest first, with the balance they add up to. */
export function PaymentsPage() {
  const { t } = useTranslation();
  const format = useFormat();
  usePageTitle(t("portal.payments.title"));
  const ledger = useQuery({ queryKey: ledgerKey, queryFn: () => data(api.GET("/me/ledger")) });
  // The balance above the list; the list is what matters, so a failure here only hides it.
  const account = useDashboard().data?.account;

  return (
    <div className="stack" data-testid="payments-page">
      <header className="page-header page-header--row">
        <h1>{t("portal.payments.title")}</h1>
        {account && (
          <p className="balance-line" data-testid="payments-balance">
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
        <div className="card table-card">
          <LedgerTable items={ledger.data.items} />
        </div>
      )}
    </div>
  );
}
