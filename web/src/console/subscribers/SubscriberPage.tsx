import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { ApiError } from "../../api/client";
import { LedgerTable } from "../../shared/billing/LedgerTable";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { BILLING_READ, BILLING_WRITE, useHasPermission, useSubscriberLedger } from "./billing";
import { PaymentForm } from "./PaymentForm";

const hasStatus = (error: unknown, status: number) => error instanceof ApiError && error.status === status;

/** A subscriber's billing in the console: the ledger and, for roles allowed to, a payment form. */
export function SubscriberPage() {
  const { accountNumber = "" } = useParams();
  // Another account is another page: no form input or payment result carries over.
  return <SubscriberBilling key={accountNumber} accountNumber={accountNumber} />;
}

function SubscriberBilling({ accountNumber }: { accountNumber: string }) {
  const { t } = useTranslation();
  const title = t("console.subscriber.title", { number: accountNumber });
  usePageTitle(title);
  // The session lists the permissions; should they change meanwhile, the API still says 403.
  const mayRead = useHasPermission(BILLING_READ);
  const mayWrite = useHasPermission(BILLING_WRITE);
  const ledger = useSubscriberLedger(accountNumber, mayRead);
  const [recordedId, setRecordedId] = useState<string>();
  const forbidden = !mayRead || hasStatus(ledger.error, 403);
  const notFound = hasStatus(ledger.error, 404);
  const currency = ledger.data?.items[0]?.amount.currency;

  return (
    <div className="stack subscriber-billing" data-testid="subscriber-page">
      <Link to="/console/tickets" className="back-link">
        ← {t("console.queue.backToQueue")}
      </Link>
      <header className="page-header">
        <h1 data-testid="subscriber-account">{title}</h1>
      </header>

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
              <section className="card">
                <PaymentForm
                  accountNumber={accountNumber}
                  currency={currency}
                  onRecorded={(result) => {
                    setRecordedId(result.movement.id);
                  }}
                />
              </section>
            ) : (
              <p className="notice notice--info" data-testid="billing-read-only">
                {t("console.subscriber.readOnly")}
              </p>
            )}
          </aside>
          <section className="card table-card subscriber-billing__ledger" aria-labelledby="ledger-title">
            <h2 id="ledger-title" className="table-card__title">
              {t("console.subscriber.ledger")}
            </h2>
            {ledger.data.items.length === 0 ? (
              <p className="empty-state table-card__empty" data-testid="ledger-empty">
                {t("console.subscriber.empty")}
              </p>
            ) : (
              <LedgerTable items={ledger.data.items} highlight={recordedId} />
            )}
          </section>
        </div>
      )}
    </div>
  );
}
