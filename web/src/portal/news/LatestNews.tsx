import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { NewsItem } from "../../api/types";
import { NewsCard } from "./NewsCard";

/** The dashboard's news block: the first posts of the feed and a link to all of them. */
export function LatestNews({ posts }: { posts: readonly NewsItem[] }) {
  const { t } = useTranslation();
  if (posts.length === 0) return null;
  return (
    <section className="latest-news" aria-labelledby="latest-news-title" data-testid="dashboard-news">
      <div className="latest-news__head">
        <h2 id="latest-news-title">{t("news.latest")}</h2>
        <Link to="/news" className="button button--ghost button--small" data-testid="dashboard-all-news">
          {t("news.all")}
        </Link>
      </div>
      <ul className="plain-list latest-news__list">
        {posts.map((post) => (
          <li key={post.id}>
            <NewsCard post={post} compact />
          </li>
        ))}
      </ul>
    </section>
  );
}
