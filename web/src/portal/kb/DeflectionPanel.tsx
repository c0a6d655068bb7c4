import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { minorUnitDigits, useFormat } from "../../shared/i18n/format";
import { Snippet } from "../../shared/search/Snippet";
import { useResume } from "../account/account";
import { useDebounced, useDiagnosis, useKbSearch, useRecordDeflection } from "./kb";
import "./kb.css";

/**
 * Beside the new-ticket form: self-diagnosis (blocked for debt → pay, suspended → resume, a
 * declared outage covering the subscriber → no need to write) and
 * the knowledge-base articles matching what the subscriber is typing. Opening an article or
 * following a fix is recorded for the deflection rate; `onShown` reports the suggested
 * articles so a ticket sent anyway can say what it was offered.
 */
export function DeflectionPanel({
  formSession,
  text,
  onShown,
}: {
  formSession: string;
  text: string;
  onShown: (ids: readonly string[]) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const typed = useDebounced(text, 400);
  const suggestions = useKbSearch(typed, "any", 3);
  const diagnosis = useDiagnosis();
  const record = useRecordDeflection(formSession);
  const resume = useResume();
  // Earlier suggestions stay while new ones load, but not once the text is gone.
  const items = typed.trim().length >= 3 ? (suggestions.data?.items ?? []) : [];
  const shownKey = items.map((hit) => hit.article.id).join(",");

  useEffect(() => {
    if (shownKey !== "") onShown(shownKey.split(","));
  }, [shownKey, onShown]);

  const findings = diagnosis.data?.findings ?? [];
  return (
    <aside className="deflection stack" aria-label={t("portal.kb.helpTitle")} data-testid="deflection-panel">
      {findings.map((finding) =>
        finding.kind === "outage" ? (
          <section
            key={`outage-${finding.title}-${finding.started_at}`}
            className="card deflection__finding"
            data-testid="diagnosis-outage"
          >
            <h2>{t("incidents.diagnosisTitle", { title: finding.title })}</h2>
            <p className="muted">{t("incidents.portalSince", { date: format.dateTime(finding.started_at) })}</p>
            <p>{finding.message}</p>
            {finding.latest_update && <p>{finding.latest_update}</p>}
            <p>{t("incidents.portalNoNeed")}</p>
          </section>
        ) : finding.kind === "blocked_for_debt" ? (
          <section key={finding.kind} className="card deflection__finding" data-testid="diagnosis-blocked">
            <h2>{t("portal.kb.blockedTitle")}</h2>
            <p>{t("portal.kb.blockedText", { amount: format.money(finding.amount_due) })}</p>
            <Link
              className="button button--primary"
              to={`/payments?amount=${(finding.amount_due.minor / 10 ** minorUnitDigits(finding.amount_due.currency)).toFixed(minorUnitDigits(finding.amount_due.currency))}`}
              onClick={() => {
                record.mutate({ kind: "self_fix", fix: "pay" });
              }}
              data-testid="diagnosis-pay"
            >
              {t("portal.kb.pay", { amount: format.money(finding.amount_due) })}
            </Link>
          </section>
        ) : (
          <section key={finding.kind} className="card deflection__finding" data-testid="diagnosis-suspended">
            <h2>{t("portal.kb.suspendedTitle")}</h2>
            <p>
              {finding.until
                ? t("portal.kb.suspendedUntil", { date: format.date(finding.until) })
                : t("portal.kb.suspendedText")}
            </p>
            {resume.isSuccess ? (
              <p className="muted" role="status">
                {t("portal.kb.resumed")}
              </p>
            ) : (
              <button
                type="button"
                className="button button--primary"
                disabled={resume.isPending}
                onClick={() => {
                  record.mutate({ kind: "self_fix", fix: "resume" });
                  resume.mutate(undefined, {
                    onSuccess: () => {
                      void diagnosis.refetch();
                    },
                  });
                }}
                data-testid="diagnosis-resume"
              >
                {t("portal.kb.resume")}
              </button>
            )}
          </section>
        ),
      )}
      {items.length > 0 && (
        <section className="card" data-testid="kb-suggestions">
          <h2>{t("portal.kb.suggestionsTitle")}</h2>
          <ul className="kb-hits">
            {items.map((hit) => (
              <li key={hit.article.id} data-testid="kb-suggestion">
                <Link
                  to={`/kb/${hit.article.id}`}
                  target="_blank"
                  onClick={() => {
                    record.mutate({ kind: "article", article_id: hit.article.id });
                  }}
                  data-testid="kb-suggestion-link"
                >
                  {hit.article.title}
                </Link>
                <Snippet parts={hit.snippet} />
              </li>
            ))}
          </ul>
        </section>
      )}
    </aside>
  );
}
