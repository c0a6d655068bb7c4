import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useFormat } from "../../shared/i18n/format";
import { Snippet } from "../../shared/search/Snippet";
import { usePageTitle } from "../../shared/site/site";
import { useTicketCategories } from "../../shared/tickets/categories";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useDebounced, useKbArticles, useKbSearch } from "./kb";
import "./kb.css";

/** The knowledge base: a search box over every published article, and the newest ones. */
export function KbListPage() {
  const { t } = useTranslation();
  const categories = useTicketCategories("subscriber");
  const format = useFormat();
  usePageTitle(t("portal.kb.title"));
  const [text, setText] = useState("");
  const q = useDebounced(text, 300).trim();
  const searching = q.length >= 3;
  const found = useKbSearch(q, "all", 20);
  const list = useKbArticles();
  const articles = list.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="stack narrow">
      <header className="page-header">
        <h1>{t("portal.kb.title")}</h1>
        <p className="muted">{t("portal.kb.intro")}</p>
      </header>
      <div className="card kb-search" role="search">
        <label className="visually-hidden" htmlFor="kb-search">
          {t("portal.kb.search")}
        </label>
        <input
          id="kb-search"
          type="search"
          maxLength={200}
          placeholder={t("portal.kb.searchPlaceholder")}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
          }}
          data-testid="kb-search"
        />
      </div>
      {searching ? (
        <section className="card" data-testid="kb-results">
          {found.isError && <ErrorNotice error={found.error} />}
          {found.isSuccess && found.data.items.length === 0 && <p className="muted">{t("portal.kb.nothing")}</p>}
          <ul className="kb-hits">
            {found.data?.items.map((hit) => (
              <li key={hit.article.id} data-testid="kb-result">
                <Link to={`/kb/${hit.article.id}`}>{hit.article.title}</Link>
                <Snippet parts={hit.snippet} />
              </li>
            ))}
          </ul>
        </section>
      ) : (
        <section className="card" data-testid="kb-list">
          {list.isPending && <Loading />}
          {list.isError && <ErrorNotice error={list.error} />}
          {list.isSuccess && articles.length === 0 && <p className="muted">{t("portal.kb.empty")}</p>}
          <ul className="kb-hits">
            {articles.map((a) => (
              <li key={a.id} data-testid="kb-article-item">
                <Link to={`/kb/${a.id}`}>{a.title}</Link>
                <p className="search-snippet">
                  {a.category ? `${categories.name(a.category)} · ` : ""}
                  {format.date(a.updated_at)}
                </p>
              </li>
            ))}
          </ul>
          {list.hasNextPage && (
            <button
              type="button"
              className="button"
              disabled={list.isFetchingNextPage}
              onClick={() => {
                void list.fetchNextPage();
              }}
            >
              {t("portal.kb.more")}
            </button>
          )}
        </section>
      )}
    </div>
  );
}
