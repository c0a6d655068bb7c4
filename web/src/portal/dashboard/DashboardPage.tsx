import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { ACCOUNT_STATUS_TONE } from "../../shared/billing/status";
import { useDashboard } from "./dashboard";
import "./dashboard.css";

function speedLabel(t: TFunction, speed: { gigabit: boolean; value: string }): string {
  return speed.gigabit
    ? t("portal.dashboard.speedGbit", { speed: speed.value })
    : t("portal.dashboard.speed", { speed: speed.value });
}

export function DashboardPage() {
  const { t } = useTranslation();
  const format = useFormat();
  usePageTitle(t("portal.dashboard.title"));
  const dashboard = useDashboard();

  if (dashboard.isPending) return <Loading />;
  if (dashboard.isError) {
    return (
      <ErrorNotice
        error={dashboard.error}
        onRetry={() => {
          void dashboard.refetch();
        }}
      />
    );
  }

  const { subscriber, account, tariff, open_tickets } = dashboard.data;
  const negative = account.balance.minor < 0;

  return (
    <div className="dashboard" data-testid="dashboard">
      <header className="page-header">
        <h1>{t("portal.dashboard.greeting", { name: subscriber.full_name })}</h1>
        <p className="muted" data-testid="account-number">
          {t("account.number", { number: subscriber.account_number })}
        </p>
      </header>

      <div className="dashboard__grid">
        <section
          className="card stat stat--balance"
          aria-labelledby="balance-title"
          data-testid="dashboard-account"
          data-status={account.status}
        >
          <div className="stat__head">
            <h2 id="balance-title">{t("portal.dashboard.balance")}</h2>
            <Badge tone={ACCOUNT_STATUS_TONE[account.status]} testId="account-status">
              {t(`account.status.${account.status}`)}
            </Badge>
          </div>
          <p className={negative ? "stat__value stat__value--negative" : "stat__value"} data-testid="dashboard-balance">
            {format.money(account.balance)}
          </p>
          {account.credit_limit.minor !== 0 && (
            <p className="muted">{t("portal.dashboard.creditLimit", { amount: format.money(account.credit_limit) })}</p>
          )}
          <div className="stat__actions">
            <Link to="/payments" className="button button--ghost button--small" data-testid="dashboard-payments">
              {t("portal.dashboard.history")}
            </Link>
          </div>
        </section>

        <section className="card stat" aria-labelledby="tariff-title">
          <h2 id="tariff-title">{t("portal.dashboard.tariff")}</h2>
          {tariff ? (
            <>
              <p className="stat__value stat__value--text" data-testid="dashboard-tariff">
                {tariff.name}
              </p>
              <p className="muted">
                {speedLabel(t, format.speed(tariff.speed_mbps))}
                {" · "}
                {t("portal.dashboard.monthly", { price: format.money(tariff.monthly_price) })}
              </p>
            </>
          ) : (
            <p className="muted" data-testid="dashboard-tariff">
              {t("portal.dashboard.noTariff")}
            </p>
          )}
        </section>

        <section className="card stat" aria-labelledby="tickets-title">
          <h2 id="tickets-title">{t("portal.dashboard.openTickets")}</h2>
          <p className="stat__value" data-testid="dashboard-open-tickets">
            {format.number(open_tickets)}
          </p>
          <div className="stat__actions">
            <Link to="/tickets" className="button button--ghost button--small">
              {t("portal.dashboard.viewTickets")}
            </Link>
            <Link to="/tickets/new" className="button button--primary button--small" data-testid="dashboard-new-ticket">
              {t("portal.dashboard.newTicket")}
            </Link>
          </div>
        </section>
      </div>
    </div>
  );
}
