import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { ImportEncoding, ImportResult } from "../../api/types";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { useImport } from "./subscribers";
import "./subscribers.css";

const ENCODINGS: readonly ImportEncoding[] = ["auto", "utf-8", "windows-1251"];

/**
 * CSV import: choose a file, check it (a dry run that saves nothing), read the per-line report,
 * then import. The server does all the checking; this page only shows what it said.
 */
export function ImportPage() {
  const { t } = useTranslation();
  usePageTitle(t("console.subscribers.import.title"));
  const id = useId();
  const run = useImport();
  const [file, setFile] = useState<File>();
  const [encoding, setEncoding] = useState<ImportEncoding>("auto");
  // The report belongs to the file it was made for: choosing another clears it.
  const [checked, setChecked] = useState<File>();

  function start(dryRun: boolean) {
    if (!file || run.isPending) return;
    run.mutate(
      { file, dryRun, encoding },
      {
        onSuccess: () => {
          setChecked(file);
        },
      },
    );
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    start(true);
  }

  const report = run.data;
  const clean = report !== undefined && report.error_count === 0;

  return (
    <div className="stack subscriber-import">
      <Link to="/console/subscribers" className="back-link">
        ← {t("console.subscribers.title")}
      </Link>
      <header className="page-header">
        <h1>{t("console.subscribers.import.title")}</h1>
        <p className="muted">{t("console.subscribers.import.intro")}</p>
        <p className="subscriber-import__columns">
          <code>account_number, name, email, phone, address, tariff, balance, status</code>
        </p>
      </header>
      <form className="card form" onSubmit={submit} data-testid="import-form">
        <div className="field">
          <label className="field__label" htmlFor={`${id}-file`}>
            {t("console.subscribers.import.file")}
          </label>
          <input
            id={`${id}-file`}
            type="file"
            accept=".csv,text/csv"
            onChange={(e) => {
              setFile(e.target.files?.[0]);
              setChecked(undefined);
              run.reset();
            }}
            data-testid="import-file"
          />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-encoding`}>
            {t("console.subscribers.import.encoding")}
          </label>
          <select
            id={`${id}-encoding`}
            value={encoding}
            onChange={(e) => {
              setEncoding(ENCODINGS.find((x) => x === e.target.value) ?? "auto");
              setChecked(undefined);
              run.reset();
            }}
            data-testid="import-encoding"
          >
            {ENCODINGS.map((x) => (
              <option key={x} value={x}>
                {t(`console.subscribers.import.encodings.${x}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="form__actions">
          <button type="submit" className="button" disabled={!file || run.isPending} data-testid="import-check">
            {t("console.subscribers.import.check")}
          </button>
          <button
            type="button"
            className="button button--primary"
            disabled={!file || run.isPending || !clean || checked !== file || report.committed}
            onClick={() => {
              start(false);
            }}
            data-testid="import-commit"
          >
            {t("console.subscribers.import.commit")}
          </button>
        </div>
        <p className="field__hint">{t("console.subscribers.import.commitHint")}</p>
      </form>
      {run.isPending && <p role="status">{t("console.subscribers.import.working")}</p>}
      {run.isError && <ErrorNotice error={run.error} />}
      {report && <Report report={report} />}
    </div>
  );
}

function Report({ report }: { report: ImportResult }) {
  const { t } = useTranslation();
  const outcome = report.committed ? "committed" : report.error_count > 0 ? "errors" : "checked";
  return (
    <section className="card stack" data-testid="import-report" data-outcome={outcome}>
      <p
        className={`notice ${outcome === "errors" ? "notice--error" : outcome === "committed" ? "notice--success" : "notice--info"}`}
        role="status"
      >
        {t(`console.subscribers.import.outcome.${outcome}`, { count: report.error_count })}
      </p>
      <dl className="import-counts">
        {(["rows", "created", "updated", "unchanged"] as const).map((key) => (
          <div key={key}>
            <dt>{t(`console.subscribers.import.counts.${key}`)}</dt>
            <dd data-testid={`import-${key}`}>{report[key]}</dd>
          </div>
        ))}
        <div>
          <dt>{t("console.subscribers.import.read")}</dt>
          <dd>
            {report.encoding}, «{report.delimiter}»
          </dd>
        </div>
      </dl>
      {report.errors.length > 0 && (
        <Problems items={report.errors} testId="import-errors" />
      )}
      {report.warnings.length > 0 && (
        <>
          <h2>{t("console.subscribers.import.warnings")}</h2>
          <Problems items={report.warnings} testId="import-warnings" />
        </>
      )}
    </section>
  );
}

function Problems({ items, testId }: { items: ImportResult["errors"]; testId: string }) {
  const { t } = useTranslation();
  return (
    <div className="table-card">
      <table className="data-table" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">{t("console.subscribers.import.line")}</th>
            <th scope="col">{t("console.subscribers.import.column")}</th>
            <th scope="col">{t("console.subscribers.import.problem")}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e, i) => (
            <tr key={`${String(e.line)}-${String(i)}`} data-testid="import-error" data-line={e.line} data-code={e.code}>
              <td className="data-table__primary">{e.line}</td>
              <td data-label={t("console.subscribers.import.column")}>{e.column ?? "—"}</td>
              <td data-label={t("console.subscribers.import.problem")}>
                <span>
                  {e.message} <code className="muted">{e.code}</code>
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
