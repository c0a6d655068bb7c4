import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { ConsoleNewsItem } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { NewsStateBadge } from "./NewsStateBadge";
import { useConsoleNews, useNewsTargets, useSetPublished } from "./news";
import "../../shared/news/news.css";

/** Every post with its state, audience and schedule; take down or put back in one click. */
export function NewsAdminPage() {
  const { t } = useTranslation();
  const format = useFormat();
  usePageTitle(t("console.news.title"));
  const list = useConsoleNews();
  const toggle = useSetPublished();
  const tariffNames = new Map(useNewsTargets().data?.tariffs.map((tariff) => [tariff.code, tariff.name]));
  const posts = list.data?.pages.flatMap((page) => page.items) ?? [];

  const audience = (post: ConsoleNewsItem) =>
    [
      post.target_tariffs.length === 0
        ? t("console.news.everyone")
        : t("console.news.tariffsOnly", {
            tariffs: post.target_tariffs.map((code) => tariffNames.get(code) ?? code).join(", "),
          }),
      post.locale ? t(`console.news.locales.${post.locale}`) : undefined,
    ]
      .filter(Boolean)
      .join(" · ");

  return (
    <div className="stack">
      <header className="page-header page-header--row">
        <h1>{t("console.news.title")}</h1>
        <Link to="/console/news/new" className="button button--primary" data-testid="news-new">
          {t("console.news.new")}
        </Link>
      </header>
      {list.isPending && <Loading />}
      {list.isError && (
        <ErrorNotice
          error={list.error}
          onRetry={() => {
            void list.refetch();
          }}
        />
      )}
      {toggle.error && <ErrorNotice error={toggle.error} />}
      {list.isSuccess && posts.length === 0 && <p className="card empty-state">{t("console.news.empty")}</p>}
      {posts.length > 0 && (
        <div className="card table-card">
          <table className="data-table" data-testid="news-admin-list">
            <thead>
              <tr>
                <th scope="col">{t("console.news.postTitle")}</th>
                <th scope="col">{t("console.news.state")}</th>
                <th scope="col">{t("console.news.publishAt")}</th>
                <th scope="col">{t("console.news.audience")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("billing.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {posts.map((post) => (
                <tr key={post.id} data-testid="news-admin-row" data-news-id={post.id} data-state={post.state}>
                  <td className="data-table__primary">
                    {post.kind === "promotion" && (
                      <>
                        <span className="badge badge--promotion">{t("news.promotion")}</span>{" "}
                      </>
                    )}
                    {post.pinned && (
                      <>
                        <span className="badge badge--info">{t("news.pinned")}</span>{" "}
                      </>
                    )}
                    <Link to={`/console/news/${post.id}`} data-testid="news-edit-link">
                      {post.title}
                    </Link>
                  </td>
                  <td data-label={t("console.news.state")}>
                    <NewsStateBadge state={post.state} />
                  </td>
                  <td data-label={t("console.news.publishAt")}>
                    <time dateTime={post.publish_at}>{format.dateTime(post.publish_at)}</time>
                    {post.expires_at && (
                      <span className="muted"> → {format.dateTime(post.expires_at)}</span>
                    )}
                  </td>
                  <td data-label={t("console.news.audience")}>{audience(post)}</td>
                  <td>
                    <button
                      type="button"
                      className="button button--small"
                      disabled={toggle.isPending}
                      onClick={() => {
                        toggle.mutate({ id: post.id, published: post.state === "unpublished" });
                      }}
                      data-testid={post.state === "unpublished" ? "news-publish" : "news-unpublish"}
                    >
                      {post.state === "unpublished" ? t("console.news.publish") : t("console.news.unpublish")}
                    </button>
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
