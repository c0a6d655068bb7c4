import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useLocation } from "react-router";
import type { AccountOptions, AccountStatus } from "../../api/types";
import { parseMajorAmount, type AmountProblem } from "../../shared/billing/amount";
import { amountProblemMessage } from "../../shared/billing/amountMessage";
import { ACCOUNT_STATUS_TONE } from "../../shared/billing/status";
import { minorUnitDigits, useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useDashboard } from "../dashboard/dashboard";
import { useAccountOptions, useResume, useSuspend, useTakePromisedPayment } from "./account";
import "./account.css";

export const PROMISE_ANCHOR = "promised-payment";
export const SUSPENSION_ANCHOR = "suspension";

/** Promised payment and voluntary suspension: what the ISP offers, what is running, and the forms. */
export function AccountPage() {
  const { t } = useTranslation();
  const format = useFormat();
  usePageTitle(t("portal.account.title"));
  const options = useAccountOptions();
  // The account's status decides what is possible; should it fail to load, the API still decides.
  const account = useDashboard().data?.account;
  const { hash } = useLocation();

  // Links from the dashboard point at a section; it exists only once the options have loaded.
  const loaded = options.isSuccess;
  useEffect(() => {
    if (!loaded || hash === "") return;
    document.getElementById(decodeURIComponent(hash.slice(1)))?.scrollIntoView({ block: "start" });
  }, [loaded, hash]);

  return (
    <div className="stack" data-testid="account-page">
      <header className="page-header page-header--row">
        <h1>{t("portal.account.title")}</h1>
        {account && (
          <p className="balance-line" data-testid="account-balance">
            <span className="muted">{t("portal.payments.balance")}</span>
            <strong className={account.balance.minor < 0 ? "balance-line__value--negative" : undefined}>
              {format.money(account.balance)}
            </strong>
            <Badge tone={ACCOUNT_STATUS_TONE[account.status]} testId="account-page-status">
              {t(`account.status.${account.status}`)}
            </Badge>
          </p>
        )}
      </header>

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
        <div className="account-grid">
          {/* While paused, the pause is what matters: it comes first. Keyed, so each keeps its state when they swap. */}
          {(options.data.suspension ? ["suspension", "promise"] : ["promise", "suspension"]).map((section) =>
            section === "promise" ? (
              <PromiseSection key={section} options={options.data} status={account?.status} />
            ) : (
              <SuspensionSection key={section} options={options.data} status={account?.status} />
            ),
          )}
        </div>
      )}
    </div>
  );
}

function PromiseSection({ options, status }: { options: AccountOptions; status: AccountStatus | undefined }) {
  const { t } = useTranslation();
  const format = useFormat();
  const id = useId();
  const take = useTakePromisedPayment();
  const [amount, setAmount] = useState("");
  const [problem, setProblem] = useState<AmountProblem>();
  const max = options.promised_payment_max;
  const open = options.open_promised_payment;
  const digits = max ? minorUnitDigits(max.currency) : 2;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!max || take.isPending) return;
    const parsed = parseMajorAmount(amount, digits, max.minor);
    setProblem(parsed.ok ? undefined : parsed.problem);
    if (!parsed.ok) {
      take.reset();
      return;
    }
    take.mutate(parsed.minor, {
      onSuccess: () => {
        setAmount("");
      },
    });
  }

  let body;
  if (!max) {
    body = (
      <p className="muted" data-testid="promise-unavailable">
        {t("portal.account.promise.notOffered")}
      </p>
    );
  } else if (open) {
    const justTaken = take.data?.id === open.id;
    body = (
      <div
        className={justTaken ? "notice notice--success running" : "running"}
        role="status"
        data-testid="promise-open"
        data-promise-id={open.id}
      >
        <p className="running__headline">
          {t("portal.account.promise.open", { amount: format.money(open.amount) })}
        </p>
        <p>
          {t("portal.account.promise.openDue", { date: format.dateTime(open.due_at) })}
        </p>
      </div>
    );
  } else if (status === "suspended") {
    body = (
      <p className="muted" data-testid="promise-unavailable">
        {t("portal.account.promise.notWhileSuspended")}
      </p>
    );
  } else {
    body = (
      <>
        <p>
          {t("portal.account.promise.intro", {
            max: format.money(max),
            days: format.days(options.promised_payment_days),
          })}
        </p>
        <p className="muted">{t("portal.account.promise.limit", { count: options.promised_payments_per_month })}</p>
        <form className="form" onSubmit={submit} noValidate data-testid="promise-form">
          <div className="field">
            <label className="field__label" htmlFor={`${id}-amount`}>
              {t("portal.account.promise.amount", { currency: format.currencySymbol(max.currency) })}
            </label>
            <input
              id={`${id}-amount`}
              type="text"
              inputMode="decimal"
              autoComplete="off"
              value={amount}
              aria-invalid={problem ? true : undefined}
              aria-describedby={`${id}-amount-note`}
              onChange={(e) => {
                setAmount(e.target.value);
                setProblem(undefined);
              }}
              data-testid="promise-amount"
            />
            {problem ? (
              <p className="field__error" id={`${id}-amount-note`} data-testid="promise-amount-error">
                {amountProblemMessage(t, problem, digits, format.money(max))}
              </p>
            ) : (
              <p className="field__hint" id={`${id}-amount-note`}>
                {t("portal.account.promise.amountHint", { max: format.money(max) })}
              </p>
            )}
          </div>
          {take.isError && <ErrorNotice error={take.error} />}
          <div className="form__actions">
            <button
              type="submit"
              className="button button--primary button--block"
              disabled={take.isPending}
              data-testid="promise-submit"
            >
              {take.isPending ? t("portal.account.promise.submitting") : t("portal.account.promise.submit")}
            </button>
          </div>
        </form>
      </>
    );
  }

  return (
    <section className="card account-card" id={PROMISE_ANCHOR} aria-labelledby={`${id}-title`} data-testid="promise-section">
      <h2 id={`${id}-title`}>{t("portal.account.promise.title")}</h2>
      {body}
    </section>
  );
}

type DaysProblem = "empty" | "range";

function SuspensionSection({ options, status }: { options: AccountOptions; status: AccountStatus | undefined }) {
  const { t } = useTranslation();
  const format = useFormat();
  const id = useId();
  const suspend = useSuspend();
  const resume = useResume();
  const min = options.suspension_min_days;
  const max = options.suspension_max_days;
  const [days, setDays] = useState(String(min));
  const [problem, setProblem] = useState<DaysProblem>();
  /** The days asked for and the moment they would end, once the form has been reviewed. */
  const [confirming, setConfirming] = useState<{ days: number; until: string }>();
  const confirmRef = useRef<HTMLDivElement>(null);
  const running = options.suspension;
  const fee = options.suspension_fee;

  useEffect(() => {
    if (confirming === undefined) return;
    confirmRef.current?.scrollIntoView({ block: "nearest" });
    confirmRef.current?.focus();
  }, [confirming]);

  function review(event: FormEvent) {
    event.preventDefault();
    const text = days.trim();
    const value = Number(text);
    const next: DaysProblem | undefined =
      text === "" ? "empty" : !/^\d{1,4}$/.test(text) || value < min || value > max ? "range" : undefined;
    setProblem(next);
    suspend.reset();
    resume.reset();
    if (next === undefined) setConfirming({ days: value, until: new Date(Date.now() + value * 86_400_000).toISOString() });
  }

  let body;
  if (running) {
    body = (
      <div className="running" data-testid="suspension-running" data-suspension-id={running.id}>
        <p className="running__headline">
          {t("portal.account.suspension.running", { date: format.dateTime(running.ends_at) })}
        </p>
        <p>{t("portal.account.suspension.runningText")}</p>
        {resume.isError && <ErrorNotice error={resume.error} />}
        <div className="form__actions">
          <button
            type="button"
            className="button button--primary button--block"
            disabled={resume.isPending}
            onClick={() => {
              suspend.reset();
              resume.mutate();
            }}
            data-testid="suspension-resume"
          >
            {resume.isPending ? t("portal.account.suspension.resuming") : t("portal.account.suspension.resume")}
          </button>
        </div>
      </div>
    );
  } else if (status !== undefined && status !== "active") {
    body = (
      <>
        {resume.isSuccess && <ResumedNotice />}
        <p className="muted" data-testid="suspension-unavailable">
          {t("portal.account.suspension.notActive")}
        </p>
      </>
    );
  } else {
    body = (
      <>
        {resume.isSuccess && <ResumedNotice />}
        <p>{t("portal.account.suspension.intro", { min, max })}</p>
        <p className="muted" data-testid="suspension-fee">
          {fee.minor > 0 ? t("portal.account.suspension.fee", { fee: format.money(fee) }) : t("portal.account.suspension.free")}
        </p>
        {confirming === undefined ? (
          <form className="form" onSubmit={review} noValidate data-testid="suspension-form">
            <div className="field">
              <label className="field__label" htmlFor={`${id}-days`}>
                {t("portal.account.suspension.days")}
              </label>
              <input
                id={`${id}-days`}
                className="days-input"
                type="text"
                inputMode="numeric"
                autoComplete="off"
                value={days}
                aria-invalid={problem ? true : undefined}
                aria-describedby={`${id}-days-note`}
                onChange={(e) => {
                  setDays(e.target.value);
                  setProblem(undefined);
                }}
                data-testid="suspension-days"
              />
              {problem ? (
                <p className="field__error" id={`${id}-days-note`} data-testid="suspension-days-error">
                  {t(`portal.account.suspension.problems.${problem}`, { min, max })}
                </p>
              ) : (
                <p className="field__hint" id={`${id}-days-note`}>
                  {t("portal.account.suspension.daysHint", { min, max })}
                </p>
              )}
            </div>
            <div className="form__actions">
              <button type="submit" className="button button--primary button--block" data-testid="suspension-submit">
                {t("portal.account.suspension.submit")}
              </button>
            </div>
          </form>
        ) : (
          <div
            ref={confirmRef}
            tabIndex={-1}
            className="confirm-box"
            role="group"
            aria-labelledby={`${id}-confirm`}
            data-testid="suspension-confirm"
          >
            <h3 id={`${id}-confirm`}>{t("portal.account.suspension.confirmTitle", { days: format.days(confirming.days) })}</h3>
            <p>{t("portal.account.suspension.confirmText", { date: format.date(confirming.until) })}</p>
            {fee.minor > 0 && (
              <p className="confirm-box__fee" data-testid="suspension-confirm-fee">
                {t("portal.account.suspension.confirmFee", { fee: format.money(fee) })}
              </p>
            )}
            {suspend.isError && <ErrorNotice error={suspend.error} />}
            <div className="confirm-box__actions">
              <button
                type="button"
                className="button button--ghost"
                disabled={suspend.isPending}
                onClick={() => {
                  suspend.reset();
                  setConfirming(undefined);
                }}
              >
                {t("portal.account.suspension.cancel")}
              </button>
              <button
                type="button"
                className="button button--primary"
                disabled={suspend.isPending}
                onClick={() => {
                  suspend.mutate(confirming.days, {
                    onSuccess: () => {
                      setConfirming(undefined);
                    },
                  });
                }}
                data-testid="suspension-confirm-submit"
              >
                {suspend.isPending ? t("portal.account.suspension.confirming") : t("portal.account.suspension.confirm")}
              </button>
            </div>
          </div>
        )}
      </>
    );
  }

  return (
    <section
      className="card account-card"
      id={SUSPENSION_ANCHOR}
      aria-labelledby={`${id}-title`}
      data-testid="suspension-section"
    >
      <h2 id={`${id}-title`}>{t("portal.account.suspension.title")}</h2>
      {body}
    </section>
  );
}

function ResumedNotice() {
  const { t } = useTranslation();
  return (
    <p className="notice notice--success" role="status" data-testid="suspension-resumed">
      {t("portal.account.suspension.resumed")}
    </p>
  );
}
