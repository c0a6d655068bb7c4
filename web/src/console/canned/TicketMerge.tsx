import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { useMergeTicket, useTicketMerge } from "./canned";
import "./canned.css";

/** "Merged into #N" on a merged ticket, "#X, #Y were merged here" on a target. */
export function MergeBanner({ ticketId }: { ticketId: string }) {
  const { t } = useTranslation();
  const state = useTicketMerge(ticketId).data;
  if (!state) return null;
  return (
    <>
      {state.merged_into && (
        <p className="notice notice--info" data-testid="merged-into">
          {t("ticketTools.merge.mergedInto")}{" "}
          <Link to={`/console/tickets/${state.merged_into.id}`} data-testid="merged-into-link">
            #{state.merged_into.number}
          </Link>
        </p>
      )}
      {state.merged_from.length > 0 && (
        <p className="notice notice--info" data-testid="merged-from">
          {t("ticketTools.merge.mergedFrom")}{" "}
          {state.merged_from.map((f, i) => (
            <span key={f.id}>
              {i > 0 && ", "}
              <Link to={`/console/tickets/${f.id}`}>#{f.number}</Link>
            </span>
          ))}
        </p>
      )}
    </>
  );
}

/**
 * Merging this ticket, a duplicate, into another of the same subscriber: its thread, notes,
 * files and tags move there and this one closes. Only the subscriber's own open tickets are
 * offered (the server refuses anything else).
 */
export function MergePanel({ ticketId, mayManage }: { ticketId: string; mayManage: boolean }) {
  const { t } = useTranslation();
  const selectId = useId();
  const state = useTicketMerge(ticketId);
  const merge = useMergeTicket(ticketId);
  const [target, setTarget] = useState("");
  if (!mayManage || !state.data || state.data.merged_into) return null;
  const candidates = state.data.candidates;

  function submit(event: FormEvent) {
    event.preventDefault();
    const number = Number(target);
    if (!Number.isInteger(number) || number < 1) return;
    if (window.confirm(t("ticketTools.merge.confirm", { number }))) {
      merge.mutate(number);
    }
  }

  return (
    <details className="merge-panel" data-testid="merge-panel">
      <summary>{t("ticketTools.merge.title")}</summary>
      {candidates.length === 0 ? (
        <p className="muted">{t("ticketTools.merge.noCandidates")}</p>
      ) : (
        <form className="merge-panel__form" onSubmit={submit}>
          <p className="muted">{t("ticketTools.merge.hint")}</p>
          <label htmlFor={selectId} className="field__label">
            {t("ticketTools.merge.into")}
          </label>
          <select
            id={selectId}
            value={target}
            onChange={(e) => {
              setTarget(e.target.value);
            }}
            data-testid="merge-target"
          >
            <option value="">{t("ticketTools.merge.choose")}</option>
            {candidates.map((c) => (
              <option key={c.id} value={c.number}>
                #{c.number} · {c.subject} · {t(`ticket.statuses.${c.status}`)}
              </option>
            ))}
          </select>
          {merge.error != null && <ErrorNotice error={merge.error} />}
          <div className="form__actions">
            <button
              type="submit"
              className="button button--primary"
              disabled={target === "" || merge.isPending}
              data-testid="merge-submit"
            >
              {t("ticketTools.merge.submit")}
            </button>
          </div>
        </form>
      )}
    </details>
  );
}
