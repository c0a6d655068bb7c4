import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { NewsItem } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { newsExcerpt } from "../../shared/news/markup";
import "../../shared/news/news.css";

/** A post in a list: promotions marked, pinned ones flagged, the first paragraph as a teaser. */
export function NewsCard({ post, compact = false }: { post: NewsItem; compact?: boolean }) {
  const { t } = useTranslation();
  const format = useFormat();
  const promotion = post.kind === "promotion";
  const titleId = `news-${post.id}-title`;
  return (
    <article
      className={`card news-card${promotion ? " news-card--promotion" : ""}`}
      aria-labelledby={titleId}
      data-testid="news-card"
      data-kind={post.kind}
    >
      <div className="news-card__meta">
        {promotion && (
          <span className="badge badge--promotion" data-testid="news-promotion">
            {t("news.promotion")}
          </span>
        )}
        {post.pinned && <span className="badge badge--info">{t("news.pinned")}</span>}
        <time dateTime={post.published_at}>{format.date(post.published_at)}</time>
        {post.expires_at && <span>{t("news.until", { date: format.date(post.expires_at) })}</span>}
      </div>
      <h2 id={titleId} className="news-card__title">
        <Link to={`/news/${post.id}`} data-testid="news-link">
          {post.title}
        </Link>
      </h2>
      {!compact && <p className="news-card__excerpt">{newsExcerpt(post.body)}</p>}
    </article>
  );
}
