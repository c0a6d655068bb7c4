import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { useTicketCategories } from "../../shared/tickets/categories";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useConsoleKb } from "./kb";

/** The knowledge base for staff: every article with its state, language and category. */
export function KbAdminPage() {
  const { t } = useTranslation();
  const categories = useTicketCategories("staff");
  const format = useFormat();
  usePageTitle(t("console.kb.title"));
  const list = useConsoleKb();
  const articles = list.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="stack">
      <header className="page-header page-header--row">
        <h1>{t("console.kb.title")}</h1>
        <Link to="/console/kb/new" className="button button--primary" data-testid="kb-new">
          {t("console.kb.new")}
        </Link>
      </header>
      {list.isPending && <Loading />}
      {list.isError && <ErrorNotice error={list.error} />}
      {list.isSuccess && articles.length === 0 && <p className="card empty-state">{t("console.kb.empty")}</p>}
      {articles.length > 0 && (
        <div className="card table-card">
          <table className="data-table" data-testid="kb-admin-list">
            <thead>
              <tr>
                <th scope="col">{t("console.kb.articleTitle")}</th>
                <th scope="col">{t("console.kb.state")}</th>
                <th scope="col">{t("ticket.category")}</th>
                <th scope="col">{t("console.kb.updated")}</th>
              </tr>
            </thead>
            <tbody>
              {articles.map((a) => (
                <tr key={a.id} data-testid="kb-admin-row" data-state={a.published_at ? "published" : "draft"}>
                  <td className="data-table__primary">
                    <Link to={`/console/kb/${a.id}`} data-testid="kb-edit-link">
                      {a.title}
                    </Link>{" "}
                    <span className="muted">{a.locale.toUpperCase()}</span>
                  </td>
                  <td data-label={t("console.kb.state")}>
                    <span className={`badge ${a.published_at ? "badge--success" : "badge--neutral"}`}>
                      {a.published_at ? t("console.kb.published") : t("console.kb.draft")}
                    </span>
                  </td>
                  <td data-label={t("ticket.category")}>{a.category ? categories.name(a.category) : "—"}</td>
                  <td data-label={t("console.kb.updated")}>
                    <time dateTime={a.updated_at}>{format.dateTime(a.updated_at)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.hasNextPage && (
        <button
          type="button"
          className="button"
          disabled={list.isFetchingNextPage}
          onClick={() => {
            void list.fetchNextPage();
          }}
        >
          {list.isFetchingNextPage ? t("console.queue.loadingMore") : t("console.queue.loadMore")}
        </button>
      )}
    </div>
  );
}
