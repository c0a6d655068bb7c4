import { useTranslation } from "react-i18next";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { NewsCard } from "./NewsCard";
import { useNewsFeed } from "./news";

/** The ISP's news and promotions for this subscriber, pinned first, then newest. */
export function NewsListPage() {
  const { t } = useTranslation();
  usePageTitle(t("news.title"));
  const feed = useNewsFeed();
  const posts = feed.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="stack narrow" data-testid="news-page">
      <header className="page-header">
        <h1>{t("news.title")}</h1>
        <p className="muted">{t("news.lead")}</p>
      </header>
      {feed.isPending && <Loading />}
      {feed.isError && (
        <ErrorNotice
          error={feed.error}
          onRetry={() => {
            void feed.refetch();
          }}
        />
      )}
      {feed.isSuccess && posts.length === 0 && <p className="card empty-state">{t("news.empty")}</p>}
      {posts.length > 0 && (
        <ul className="plain-list stack" data-testid="news-list">
          {posts.map((post) => (
            <li key={post.id}>
              <NewsCard post={post} />
            </li>
          ))}
        </ul>
      )}
      {feed.hasNextPage && (
        <button
          type="button"
          className="button"
          disabled={feed.isFetchingNextPage}
          onClick={() => {
            void feed.fetchNextPage();
          }}
          data-testid="news-more"
        >
          {feed.isFetchingNextPage ? t("common.loading") : t("news.more")}
        </button>
      )}
      {feed.isFetchNextPageError && <ErrorNotice error={feed.error} />}
    </div>
  );
}
