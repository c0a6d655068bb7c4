import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { ACCOUNT_STATUS_TONE } from "../../shared/billing/status";
import { useAccountOptions } from "../account/account";
import { LatestNews } from "../news/LatestNews";
import { OutageBanner } from "../incidents/OutageBanner";
import { PROMISE_ANCHOR, SUSPENSION_ANCHOR } from "../account/AccountPage";
import { useTariffCatalogue } from "../tariff/tariff";
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
  // Extras around the essentials: should either fail, the dashboard just shows less.
  const options = useAccountOptions().data;
  const catalogue = useTariffCatalogue().data;

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

  const { subscriber, account, tariff, open_tickets, latest_news } = dashboard.data;
  const negative = account.balance.minor < 0;
  const promise = options?.open_promised_payment;
  const suspension = options?.suspension;
  // Offered, none open, and this account may take one (not while paused).
  const mayPromise = options?.promised_payment_max !== undefined && !promise && account.status !== "suspended";
  const pending = catalogue?.pending;
  const pendingName = pending && catalogue.items.find((o) => o.code === pending.code)?.name;

  return (
    <div className="dashboard" data-testid="dashboard">
      <header className="page-header">
        <h1>{t("portal.dashboard.greeting", { name: subscriber.full_name })}</h1>
        <p className="muted" data-testid="account-number">
          {t("account.number", { number: subscriber.account_number })}
        </p>
      </header>

      <OutageBanner />

      {account.status === "blocked" && (
        <section className="callout callout--danger" aria-labelledby="blocked-title" data-testid="dashboard-blocked-cta">
          <div className="callout__body">
            <h2 id="blocked-title">
              {mayPromise ? t("portal.dashboard.blockedTitle") : t("portal.dashboard.blockedTitleNoPromise")}
            </h2>
            <p>
              {mayPromise
                ? t("portal.dashboard.blockedText", { number: subscriber.account_number })
                : t("portal.dashboard.blockedTextNoPromise", { number: subscriber.account_number })}
            </p>
          </div>
          <div className="callout__actions">
            {mayPromise && (
              <Link
                to={`/account#${PROMISE_ANCHOR}`}
                className="button button--primary"
                data-testid="dashboard-take-promise"
              >
                {t("portal.dashboard.takePromise")}
              </Link>
            )}
            <Link to="/payments" className="button">
              {t("portal.dashboard.history")}
            </Link>
          </div>
        </section>
      )}

      {promise && (
        <section className="callout callout--info" aria-labelledby="promise-title" data-testid="dashboard-promise">
          <div className="callout__body">
            <h2 id="promise-title">{t("portal.dashboard.promise")}</h2>
            <p className="callout__value" data-testid="dashboard-promise-amount">
              {t("portal.dashboard.promiseOpen", {
                amount: format.money(promise.amount),
                date: format.dateTime(promise.due_at),
              })}
            </p>
            <p>{t("portal.dashboard.promiseRepaid")}</p>
          </div>
          <div className="callout__actions">
            <Link to={`/account#${PROMISE_ANCHOR}`} className="button button--ghost button--small">
              {t("portal.dashboard.manage")}
            </Link>
          </div>
        </section>
      )}

      {suspension && (
        <section className="callout callout--warning" aria-labelledby="suspension-title" data-testid="dashboard-suspension">
          <div className="callout__body">
            <h2 id="suspension-title">{t("portal.dashboard.suspended")}</h2>
            <p className="callout__value" data-testid="dashboard-suspension-until">
              {t("portal.dashboard.suspendedUntil", { date: format.dateTime(suspension.ends_at) })}
            </p>
            <p>{t("portal.dashboard.suspendedText")}</p>
          </div>
          <div className="callout__actions">
            <Link to={`/account#${SUSPENSION_ANCHOR}`} className="button button--ghost button--small">
              {t("portal.dashboard.manage")}
            </Link>
          </div>
        </section>
      )}

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
          {pending && (
            <p className="stat__note" data-testid="dashboard-pending-tariff">
              {t("portal.dashboard.pendingTariff", {
                date: format.date(pending.effective_at),
                name: pendingName ?? pending.code,
              })}
            </p>
          )}
          <div className="stat__actions">
            <Link to="/tariff" className="button button--ghost button--small" data-testid="dashboard-change-tariff">
              {t("portal.dashboard.changeTariff")}
            </Link>
          </div>
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

      <LatestNews posts={latest_news} />
    </div>
  );
}
