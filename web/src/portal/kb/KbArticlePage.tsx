import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { useFormat } from "../../shared/i18n/format";
import { NewsBody } from "../../shared/news/NewsBody";
import { usePageTitle } from "../../shared/site/site";
import { useTicketCategories } from "../../shared/tickets/categories";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useKbArticle } from "./kb";
import "../../shared/news/news.css";

/** One article; its body uses the news markup (paragraphs, lists, bold, links; no HTML). */
export function KbArticlePage() {
  const { t } = useTranslation();
  const categories = useTicketCategories("subscriber");
  const format = useFormat();
  const { id = "" } = useParams();
  const article = useKbArticle(id);
  usePageTitle(article.data?.title ?? t("portal.kb.title"));

  return (
    <div className="stack narrow">
      <Link to="/kb" className="back-link">
        ← {t("portal.kb.title")}
      </Link>
      {article.isPending && <Loading />}
      {article.isError && <ErrorNotice error={article.error} />}
      {article.data && (
        <article className="card" data-testid="kb-article">
          <div className="news-card__meta">
            {article.data.category && <span>{categories.name(article.data.category)}</span>}
            <time dateTime={article.data.updated_at}>{format.date(article.data.updated_at)}</time>
          </div>
          <h1 className="news-post__title" data-testid="kb-article-title">
            {article.data.title}
          </h1>
          <NewsBody body={article.data.body} />
          <p className="muted">
            {t("portal.kb.stillStuck")} <Link to="/tickets/new">{t("portal.tickets.new")}</Link>
          </p>
        </article>
      )}
    </div>
  );
}
