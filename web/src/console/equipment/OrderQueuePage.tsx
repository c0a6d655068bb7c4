import { useId } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { ORDER_STATUSES, type OrderStatus } from "../../api/types";
import { OrderStatusBadge } from "../../shared/equipment/OrderStatusBadge";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { BILLING_READ, useHasPermission } from "../subscribers/billing";
import { useOrderQueue } from "./orders";

function parseStatus(value: string | null): OrderStatus | undefined {
  return ORDER_STATUSES.find((s) => s === value);
}

/** Equipment orders, newest first, filtered by status (kept in the URL). */
export function OrderQueuePage() {
  const { t } = useTranslation();
  const format = useFormat();
  const filterId = useId();
  usePageTitle(t("console.orders.title"));
  const [params, setParams] = useSearchParams();
  const status = parseStatus(params.get("status"));
  const queue = useOrderQueue(status);
  const mayOpenBilling = useHasPermission(BILLING_READ);
  const orders = queue.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="stack">
      <header className="page-header page-header--row">
        <h1>{t("console.orders.title")}</h1>
        <div className="filter">
          <label htmlFor={filterId}>{t("console.queue.filter")}</label>
          <select
            id={filterId}
            value={status ?? ""}
            onChange={(e) => {
              setParams(e.target.value ? { status: e.target.value } : {});
            }}
            data-testid="orders-status-filter"
          >
            <option value="">{t("console.queue.allStatuses")}</option>
            {ORDER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`equipment.statuses.${s}`)}
              </option>
            ))}
          </select>
        </div>
      </header>

      {queue.isPending && <Loading />}
      {queue.isError && (
        <ErrorNotice
          error={queue.error}
          onRetry={() => {
            void queue.refetch();
          }}
        />
      )}
      {queue.isSuccess && orders.length === 0 && (
        <p className="card empty-state" data-testid="orders-empty">
          {t("console.orders.empty")}
        </p>
      )}
      {orders.length > 0 && (
        <div className="card table-card">
          <table className="data-table queue" data-testid="order-queue">
            <thead>
              <tr>
                <th scope="col">{t("console.queue.number")}</th>
                <th scope="col">{t("console.orders.item")}</th>
                <th scope="col">{t("console.queue.subscriber")}</th>
                <th scope="col">{t("console.orders.phone")}</th>
                <th scope="col">{t("ticket.status")}</th>
                <th scope="col">{t("console.orders.placed")}</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((order) => (
                <tr key={order.id} data-testid="console-order-row" data-order-id={order.id} data-status={order.status}>
                  <td className="queue__number" data-prefix={t("console.queue.number")}>
                    {order.number}
                  </td>
                  <td className="data-table__primary">
                    <Link to={`/console/orders/${order.id}`} data-testid="console-order-link">
                      {order.item_name}
                    </Link>
                    <span className="muted">
                      {" · "}
                      {t(`equipment.modes.${order.mode}`)}
                    </span>
                  </td>
                  <td data-label={t("console.queue.subscriber")}>
                    <span>
                      {order.subscriber_name}
                      <span className="muted">
                        {" · "}
                        {mayOpenBilling ? (
                          <Link to={`/console/subscribers/${encodeURIComponent(order.account_number)}`}>
                            {order.account_number}
                          </Link>
                        ) : (
                          order.account_number
                        )}
                      </span>
                    </span>
                  </td>
                  <td data-label={t("console.orders.phone")}>
                    <a href={`tel:${order.contact_phone}`}>{order.contact_phone}</a>
                  </td>
                  <td data-label={t("ticket.status")}>
                    <OrderStatusBadge status={order.status} />
                  </td>
                  <td data-label={t("console.orders.placed")}>
                    <time dateTime={order.created_at}>{format.dateTime(order.created_at)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {queue.isSuccess && (
        <div className="queue__footer">
          <span className="muted">{t("console.queue.shown", { count: orders.length })}</span>
          {queue.hasNextPage && (
            <button
              type="button"
              className="button"
              disabled={queue.isFetchingNextPage}
              onClick={() => {
                void queue.fetchNextPage();
              }}
            >
              {queue.isFetchingNextPage ? t("console.queue.loadingMore") : t("console.queue.loadMore")}
            </button>
          )}
        </div>
      )}
      {queue.isFetchNextPageError && <ErrorNotice error={queue.error} />}
    </div>
  );
}
