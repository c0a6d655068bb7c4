import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { useFormat } from "../../shared/i18n/format";
import { NewsBody } from "../../shared/news/NewsBody";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useNewsPost } from "./news";
import "../../shared/news/news.css";

export function NewsPostPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const { id = "" } = useParams();
  const post = useNewsPost(id);
  usePageTitle(post.data?.title ?? t("news.title"));

  return (
    <div className="stack narrow">
      <Link to="/news" className="back-link">
        ← {t("news.all")}
      </Link>
      {post.isPending && <Loading />}
      {post.isError && <ErrorNotice error={post.error} />}
      {post.data && (
        <article
          className={`card news-card${post.data.kind === "promotion" ? " news-card--promotion" : ""}`}
          data-testid="news-post"
          data-kind={post.data.kind}
        >
          <div className="news-card__meta">
            {post.data.kind === "promotion" && (
              <span className="badge badge--promotion" data-testid="news-promotion">
                {t("news.promotion")}
              </span>
            )}
            <time dateTime={post.data.published_at}>{format.date(post.data.published_at)}</time>
            {post.data.expires_at && <span>{t("news.until", { date: format.date(post.data.expires_at) })}</span>}
          </div>
          <h1 className="news-post__title" data-testid="news-title">
            {post.data.title}
          </h1>
          <NewsBody body={post.data.body} />
        </article>
      )}
    </div>
  );
}
