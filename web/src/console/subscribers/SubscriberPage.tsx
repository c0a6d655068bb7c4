import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { ApiError } from "../../api/client";
import type { SubscriberLedger } from "../../api/types";
import { LedgerTable } from "../../shared/billing/LedgerTable";
import { ACCOUNT_STATUS_TONE } from "../../shared/billing/status";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { BILLING_READ, BILLING_WRITE, statementUrl, useHasPermission, useSubscriberLedger } from "./billing";
import { CorrectionForm } from "./CorrectionForm";
import { PaymentForm } from "./PaymentForm";
import { ReverseMovement } from "./ReverseMovement";
import { ServiceLogins } from "../network/ServiceLogins";
import { SubscriberProfile } from "./SubscriberProfile";

const hasStatus = (error: unknown, status: number) => error instanceof ApiError && error.status === status;

/** A subscriber's billing in the console: the ledger and, for roles allowed to, a payment form. */
export function SubscriberPage() {
  const { accountNumber = "" } = useParams();
  // Another account is another page: no form input or payment result carries over.
  return <SubscriberBilling key={accountNumber} accountNumber={accountNumber} />;
}

function SubscriberBilling({ accountNumber }: { accountNumber: string }) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? "en";
  const title = t("console.subscriber.title", { number: accountNumber });
  usePageTitle(title);
  // The session lists the permissions; should they change meanwhile, the API still says 403.
  const mayRead = useHasPermission(BILLING_READ);
  const mayWrite = useHasPermission(BILLING_WRITE);
  const ledger = useSubscriberLedger(accountNumber, mayRead);
  const [recordedId, setRecordedId] = useState<string>();
  const forbidden = !mayRead || hasStatus(ledger.error, 403);
  const notFound = hasStatus(ledger.error, 404);
  const currency = ledger.data?.balance.currency;

  return (
    <div className="stack subscriber-billing" data-testid="subscriber-page">
      <Link to="/console/subscribers" className="back-link">
        ← {t("console.subscribers.title")}
      </Link>
      <header className="page-header subscriber-header">
        <div className="subscriber-header__who">
          <h1 data-testid="subscriber-account">{title}</h1>
          {ledger.data && (
            <p className="subscriber-header__name" data-testid="subscriber-name">
              {ledger.data.full_name}
            </p>
          )}
        </div>
        {ledger.data && <AccountSummary ledger={ledger.data} />}
      </header>
      <SubscriberProfile accountNumber={accountNumber} />
      <ServiceLogins accountNumber={accountNumber} />

      {forbidden ? (
        <p className="notice notice--warning" role="alert" data-testid="billing-forbidden">
          {t("console.subscriber.noAccess")}
        </p>
      ) : notFound ? (
        <p className="card empty-state" data-testid="subscriber-not-found">
          {t("console.subscriber.notFound", { number: accountNumber })}
        </p>
      ) : ledger.isPending ? (
        <Loading />
      ) : ledger.isError ? (
        <ErrorNotice
          error={ledger.error}
          onRetry={() => {
            void ledger.refetch();
          }}
        />
      ) : (
        <div className="subscriber-billing__grid">
          <aside className="subscriber-billing__side">
            {mayWrite ? (
              <>
                <section className="card">
                  <PaymentForm
                    accountNumber={accountNumber}
                    currency={currency}
                    onRecorded={(result) => {
                      setRecordedId(result.movement.id);
                    }}
                  />
                </section>
                <section className="card">
                  <CorrectionForm
                    accountNumber={accountNumber}
                    currency={currency}
                    onCorrected={(result) => {
                      setRecordedId(result.movement?.id);
                    }}
                  />
                </section>
              </>
            ) : (
              <p className="notice notice--info" data-testid="billing-read-only">
                {t("console.subscriber.readOnly")}
              </p>
            )}
          </aside>
          <section className="card table-card subscriber-billing__ledger" aria-labelledby="ledger-title">
            <div className="table-card__head">
              <h2 id="ledger-title" className="table-card__title">
                {t("console.subscriber.ledger")}
              </h2>
              <div className="table-card__actions">
                <a
                  className="button button--small"
                  href={statementUrl(accountNumber, "pdf", language)}
                  download
                  data-testid="subscriber-statement-pdf"
                >
                  {t("console.subscriber.statementPdf")}
                </a>
                <a className="button button--small button--ghost" href={statementUrl(accountNumber, "csv", language)} download>
                  {t("console.subscriber.statementCsv")}
                </a>
              </div>
            </div>
            {ledger.data.items.length === 0 ? (
              <p className="empty-state table-card__empty" data-testid="ledger-empty">
                {t("console.subscriber.empty")}
              </p>
            ) : (
              <LedgerTable
                items={ledger.data.items}
                highlight={recordedId}
                action={
                  mayWrite ? (movement) => <ReverseMovement accountNumber={accountNumber} movement={movement} /> : undefined
                }
              />
            )}
          </section>
        </div>
      )}
    </div>
  );
}

/** Status, balance and tariff at a glance, above the ledger; refreshed with it after a payment. */
function AccountSummary({ ledger }: { ledger: SubscriberLedger }) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <dl className="account-summary" data-testid="subscriber-summary" data-status={ledger.status}>
      <div>
        <dt>{t("console.subscriber.balance")}</dt>
        <dd className="account-summary__balance">
          <span
            className={ledger.balance.minor < 0 ? "balance-line__value--negative" : undefined}
            data-testid="subscriber-balance"
          >
            {format.money(ledger.balance)}
          </span>
          <Badge tone={ACCOUNT_STATUS_TONE[ledger.status]} testId="subscriber-status">
            {t(`account.status.${ledger.status}`)}
          </Badge>
        </dd>
        {ledger.credit_limit.minor !== 0 && (
          <dd className="account-summary__note">
            {t("console.subscriber.creditLimit", { amount: format.money(ledger.credit_limit) })}
          </dd>
        )}
      </div>
      <div>
        <dt>{t("console.subscriber.tariff")}</dt>
        <dd data-testid="subscriber-tariff">{ledger.tariff_name ?? t("console.subscriber.noTariff")}</dd>
      </div>
    </dl>
  );
}
