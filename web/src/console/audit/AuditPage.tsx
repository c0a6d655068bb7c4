import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { type AuditSearch, exportUrl, useAuditLog, useAuditVerification } from "./audit";
import { AuditCheckpoint } from "./AuditCheckpoint";
import "./audit.css";

const EMPTY: AuditSearch = { actor: "", action: "", target: "", from: "", to: "" };

/** The owner's audit log: search, page through, export, and the hash chain's state. */
export function AuditPage() {
  const { t } = useTranslation();
  const format = useFormat();
  usePageTitle(t("audit.title"));
  const ids = { actor: useId(), action: useId(), target: useId(), from: useId(), to: useId() };
  const [draft, setDraft] = useState<AuditSearch>(EMPTY);
  const [search, setSearch] = useState<AuditSearch>(EMPTY);
  const log = useAuditLog(search);
  const chain = useAuditVerification();
  const entries = log.data?.pages.flatMap((page) => page.items) ?? [];

  const field = (key: keyof AuditSearch, type = "text") => (
    <div className="field">
      <label className="field__label" htmlFor={ids[key]}>
        {t(`audit.filters.${key}`)}
      </label>
      <input
        id={ids[key]}
        type={type}
        value={draft[key]}
        maxLength={200}
        onChange={(e) => {
          setDraft({ ...draft, [key]: e.target.value });
        }}
        data-testid={`audit-filter-${key}`}
      />
    </div>
  );

  return (
    <div className="stack audit">
      <header className="page-header page-header--row">
        <h1>{t("audit.title")}</h1>
        <a className="button" href={exportUrl(search)} download data-testid="audit-export">
          {t("audit.export")}
        </a>
      </header>
      {chain.data && (
        <p
          className={chain.data.state === "intact" ? "card audit__chain" : "card audit__chain audit__chain--broken"}
          data-testid="audit-chain"
          data-state={chain.data.state}
        >
          {chain.data.state === "intact"
            ? t("audit.intact", { entries: chain.data.entries })
            : t("audit.broken", { seq: chain.data.broken_seq ?? 0, reason: t(`audit.reasons.${chain.data.broken_reason ?? "gap"}`) })}
          {chain.data.head_hash && (
            <span className="muted audit__hash"> {t("audit.head", { seq: chain.data.head_seq ?? 0, hash: chain.data.head_hash.slice(0, 16) })}</span>
          )}
        </p>
      )}
      {chain.isError && <ErrorNotice error={chain.error} />}
      {chain.data?.head_hash && chain.data.head_seq !== undefined && (
        <AuditCheckpoint headSeq={chain.data.head_seq} headHash={chain.data.head_hash} />
      )}
      <form
        className="card form audit__filters"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(draft);
        }}
      >
        {field("actor")}
        {field("action")}
        {field("target")}
        {field("from", "date")}
        {field("to", "date")}
        <div className="audit__filter-actions">
          <button type="submit" className="button button--primary" data-testid="audit-search">
            {t("audit.search")}
          </button>
          <button
            type="button"
            className="button button--ghost"
            onClick={() => {
              setDraft(EMPTY);
              setSearch(EMPTY);
            }}
          >
            {t("audit.reset")}
          </button>
        </div>
      </form>
      {log.isPending && <Loading />}
      {log.isError && <ErrorNotice error={log.error} />}
      {log.isSuccess && entries.length === 0 && <p className="card empty-state">{t("audit.empty")}</p>}
      {entries.length > 0 && (
        <ol className="card audit__list" data-testid="audit-list">
          {entries.map((entry) => (
            <li key={entry.seq} data-testid="audit-entry" data-action={entry.action}>
              <div className="audit__head">
                <strong>{entry.action}</strong>
                <span className="muted">#{entry.seq}</span>
              </div>
              <div className="audit__meta">
                <time dateTime={entry.at}>{format.dateTime(entry.at)}</time>
                {" · "}
                {entry.actor.kind === "system"
                  ? t("audit.system")
                  : `${entry.actor.name ?? entry.actor.id ?? ""}${entry.actor.kind === "operator" ? ` (${t("audit.operator")})` : ""}`}
                {entry.client_addr && ` · ${entry.client_addr}`}
              </div>
              <div className="audit__target">{entry.target}</div>
              <details>
                <summary>{t("audit.details")}</summary>
                <pre className="audit__details">{JSON.stringify(entry.details, null, 2)}</pre>
              </details>
            </li>
          ))}
        </ol>
      )}
      {log.hasNextPage && (
        <button
          type="button"
          className="button"
          disabled={log.isFetchingNextPage}
          onClick={() => {
            void log.fetchNextPage();
          }}
        >
          {log.isFetchingNextPage ? t("console.queue.loadingMore") : t("console.queue.loadMore")}
        </button>
      )}
    </div>
  );
}
