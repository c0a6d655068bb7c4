import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { Snippet } from "../../shared/search/Snippet";
import { TicketStatusBadge } from "../../shared/tickets/TicketStatusBadge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useTicketSearch } from "./kb";
import "../../portal/kb/kb.css";

/**
 * Full-text search above the ticket queue: subjects, messages and internal notes, Russian and
 * English word forms, best match first, with the matched words marked. The query lives in the
 * URL (`?q=`) so "back" from a ticket returns to the results.
 */
export function TicketSearch() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const [text, setText] = useState(q);
  const search = useTicketSearch(q);
  const hits = search.data?.pages.flatMap((page) => page.items) ?? [];

  function submit(event: FormEvent) {
    event.preventDefault();
    const next = new URLSearchParams(params);
    if (text.trim() === "") next.delete("q");
    else next.set("q", text.trim());
    setParams(next);
  }

  return (
    <section className="stack" aria-label={t("console.search.title")}>
      <form className="card kb-search" role="search" onSubmit={submit}>
        <label className="visually-hidden" htmlFor="ticket-search">
          {t("console.search.title")}
        </label>
        <input
          id="ticket-search"
          type="search"
          maxLength={200}
          placeholder={t("console.search.placeholder")}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
          }}
          data-testid="ticket-search"
        />
        <button type="submit" className="button" data-testid="ticket-search-submit">
          {t("console.search.go")}
        </button>
      </form>
      {q.trim().length >= 2 && (
        <div className="card" data-testid="ticket-search-results">
          {search.isPending && <Loading />}
          {search.isError && <ErrorNotice error={search.error} />}
          {search.isSuccess && hits.length === 0 && <p className="muted">{t("console.search.nothing", { q })}</p>}
          <ul className="kb-hits">
            {hits.map((hit) => (
              <li key={hit.ticket.id} data-testid="ticket-search-hit" data-matched-in={hit.matched_in}>
                <Link to={`/console/tickets/${hit.ticket.id}`}>
                  #{hit.ticket.number} {hit.ticket.subject}
                </Link>{" "}
                <TicketStatusBadge status={hit.ticket.status} />{" "}
                <span className="muted">
                  {hit.ticket.subscriber_name} · {t(`console.search.in.${hit.matched_in}`)}
                </span>
                <Snippet parts={hit.snippet} />
              </li>
            ))}
          </ul>
          {search.hasNextPage && (
            <button
              type="button"
              className="button"
              disabled={search.isFetchingNextPage}
              onClick={() => {
                void search.fetchNextPage();
              }}
            >
              {t("console.queue.loadMore")}
            </button>
          )}
        </div>
      )}
    </section>
  );
}
