import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { useCheckpointCheck } from "./audit";

/**
 * The chain's external anchor: the head to copy and keep outside Kabinet, and a check of a
 * checkpoint kept earlier. A chain rewritten from an altered entry on still verifies; an older
 * checkpoint no longer matches it.
 */
export function AuditCheckpoint({ headSeq, headHash }: { headSeq: number; headHash: string }) {
  const { t } = useTranslation();
  const ids = { seq: useId(), hash: useId() };
  const [seq, setSeq] = useState("");
  const [hash, setHash] = useState("");
  const check = useCheckpointCheck();
  const result = check.data?.checkpoint;

  return (
    <section className="card stack audit__checkpoint" data-testid="audit-checkpoint">
      <h2>{t("audit.checkpoint.title")}</h2>
      <p className="muted">{t("audit.checkpoint.explain")}</p>
      <p>
        <span data-testid="audit-checkpoint-seq">{t("audit.checkpoint.seq")} {headSeq}</span>
        <br />
        <code className="audit__hash" data-testid="audit-checkpoint-hash">
          {headHash}
        </code>
      </p>
      <form
        className="form audit__checkpoint-form"
        onSubmit={(e) => {
          e.preventDefault();
          check.mutate({ seq: Number(seq), hash: hash.trim() });
        }}
      >
        <div className="field">
          <label className="field__label" htmlFor={ids.seq}>
            {t("audit.checkpoint.seq")}
          </label>
          <input
            id={ids.seq}
            type="number"
            min={1}
            required
            value={seq}
            onChange={(e) => {
              setSeq(e.target.value);
            }}
            data-testid="audit-checkpoint-input-seq"
          />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={ids.hash}>
            {t("audit.checkpoint.hash")}
          </label>
          <input
            id={ids.hash}
            required
            pattern="\s*[0-9a-fA-F]{64}\s*"
            maxLength={80}
            spellCheck={false}
            autoComplete="off"
            value={hash}
            onChange={(e) => {
              setHash(e.target.value);
            }}
            data-testid="audit-checkpoint-input-hash"
          />
        </div>
        <div className="audit__filter-actions">
          <button type="submit" className="button" disabled={check.isPending} data-testid="audit-checkpoint-check">
            {t("audit.checkpoint.check")}
          </button>
        </div>
      </form>
      {check.isError && <ErrorNotice error={check.error} />}
      {result && (
        <p
          className={result === "matches" ? "audit__chain card" : "audit__chain audit__chain--broken card"}
          role="status"
          data-testid="audit-checkpoint-result"
          data-result={result}
        >
          {t(`audit.checkpoint.results.${result}`, { seq: check.variables?.seq ?? 0 })}
        </p>
      )}
    </section>
  );
}
