import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router";
import { LedgerTable } from "../../shared/billing/LedgerTable";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Field } from "../../shared/ui/Field";
import { Loading } from "../../shared/ui/Loading";
import { downloadUrl, periodFrom, presets, useStatement, type Period } from "./statement";
import "./statement.css";

/**
 * Charge details (детализация) for any period of up to a year: the balance at its start and
 * end, what came in and what was charged, every movement, and the same as a PDF or CSV file.
 */
export function StatementPage() {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  usePageTitle(t("portal.statement.title"));
  const [params, setParams] = useSearchParams();
  const period = periodFrom(params);
  const [draft, setDraft] = useState<Period>(period);
  const statement = useStatement(period);
  const quick = presets();

  const choose = (next: Period) => {
    setDraft(next);
    setParams({ from: next.from, to: next.to }, { replace: true });
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (draft.from && draft.to && draft.from <= draft.to) choose(draft);
  };
  const badRange = draft.from > draft.to;

  let received = 0;
  let charged = 0;
  for (const item of statement.data?.items ?? []) {
    if (item.amount.minor >= 0) received += item.amount.minor;
    else charged -= item.amount.minor;
  }
  const currency = statement.data?.opening_balance.currency;
  const language = i18n.resolvedLanguage ?? "en";

  return (
    <div className="stack" data-testid="statement-page">
      <header className="page-header">
        <h1>{t("portal.statement.title")}</h1>
        <p className="muted">{t("portal.statement.lead")}</p>
      </header>

      <section className="card statement-period" aria-label={t("portal.statement.period")}>
        <div className="statement-period__presets" role="group" aria-label={t("portal.statement.quick")}>
          {(Object.keys(quick) as (keyof typeof quick)[]).map((key) => (
            <button
              key={key}
              type="button"
              className={
                quick[key].from === period.from && quick[key].to === period.to ? "chip chip--active" : "chip"
              }
              data-testid={`statement-preset-${key}`}
              onClick={() => {
                choose(quick[key]);
              }}
            >
              {t(`portal.statement.presets.${key}`)}
            </button>
          ))}
        </div>
        <form className="statement-period__form" onSubmit={submit}>
          <Field label={t("portal.statement.from")}>
            {(control) => (
              <input
                {...control}
                type="date"
                value={draft.from}
                max={draft.to}
                data-testid="statement-from"
                onChange={(e) => {
                  setDraft({ ...draft, from: e.target.value });
                }}
              />
            )}
          </Field>
          <Field label={t("portal.statement.to")}>
            {(control) => (
              <input
                {...control}
                type="date"
                value={draft.to}
                min={draft.from}
                data-testid="statement-to"
                onChange={(e) => {
                  setDraft({ ...draft, to: e.target.value });
                }}
              />
            )}
          </Field>
          <button type="submit" className="button button--primary" disabled={badRange} data-testid="statement-show">
            {t("portal.statement.show")}
          </button>
        </form>
        {badRange && <p className="field__error">{t("portal.statement.badRange")}</p>}
      </section>

      {statement.isPending && <Loading />}
      {statement.isError && (
        <ErrorNotice
          error={statement.error}
          onRetry={() => {
            void statement.refetch();
          }}
        />
      )}
      {statement.data && currency && (
        <>
          <section className="statement-totals" aria-label={t("portal.statement.totals")}>
            <div className="card statement-total">
              <span className="muted">{t("portal.statement.opening")}</span>
              <strong data-testid="statement-opening">{format.money(statement.data.opening_balance)}</strong>
            </div>
            <div className="card statement-total">
              <span className="muted">{t("portal.statement.received")}</span>
              <strong className="statement-total--up">{format.money({ minor: received, currency })}</strong>
            </div>
            <div className="card statement-total">
              <span className="muted">{t("portal.statement.charged")}</span>
              <strong>{format.money({ minor: charged, currency })}</strong>
            </div>
            <div className="card statement-total">
              <span className="muted">{t("portal.statement.closing")}</span>
              <strong data-testid="statement-closing" data-minor={statement.data.closing_balance.minor}>
                {format.money(statement.data.closing_balance)}
              </strong>
            </div>
          </section>

          <div className="statement-downloads">
            <a
              className="button button--primary"
              href={downloadUrl("pdf", period, language)}
              download
              data-testid="statement-download-pdf"
            >
              {t("portal.statement.downloadPdf")}
            </a>
            <a
              className="button"
              href={downloadUrl("csv", period, language)}
              download
              data-testid="statement-download-csv"
            >
              {t("portal.statement.downloadCsv")}
            </a>
          </div>

          {statement.data.items.length === 0 ? (
            <p className="card empty-state" data-testid="statement-empty">
              {t("portal.statement.empty")}
            </p>
          ) : (
            <section className="card table-card" aria-label={t("portal.statement.movements")}>
              <h2 className="table-card__title">{t("portal.statement.movements")}</h2>
              <LedgerTable items={statement.data.items} />
            </section>
          )}
        </>
      )}
    </div>
  );
}
