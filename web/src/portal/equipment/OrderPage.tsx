import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { OrderHistory } from "../../shared/equipment/OrderHistory";
import { OrderStatusBadge } from "../../shared/equipment/OrderStatusBadge";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useCancelOrder, useMyOrder } from "./equipment";
import "../../shared/equipment/equipment.css";
import "./equipment.css";

/** One order: what, for how much, where it stands and how it got there; cancel while new. */
export function OrderPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const { id = "" } = useParams();
  const order = useMyOrder(id);
  const cancel = useCancelOrder(id);
  const [confirming, setConfirming] = useState(false);
  usePageTitle(order.data ? t("equipment.orderNumber", { number: order.data.number }) : t("equipment.title"));

  return (
    <div className="stack narrow" data-testid="order-page">
      <Link to="/equipment" className="back-link">
        ← {t("equipment.title")}
      </Link>
      {order.isPending && <Loading />}
      {order.isError && <ErrorNotice error={order.error} />}
      {order.data && (
        <>
          <header className="page-header page-header--row">
            <h1>{t("equipment.orderNumber", { number: order.data.number })}</h1>
            <OrderStatusBadge status={order.data.status} />
          </header>
          {cancel.data && cancel.data.refunded.minor > 0 && (
            <p className="notice notice--success" role="status" data-testid="order-cancelled">
              {t("equipment.cancelled", { amount: format.money(cancel.data.refunded) })}
            </p>
          )}
          <section className="card stack" aria-label={t("equipment.details")}>
            <h2 className="order-page__item">{order.data.item_name}</h2>
            <dl className="facts">
              <div>
                <dt>{t("equipment.mode")}</dt>
                <dd>{t(`equipment.modes.${order.data.mode}`)}</dd>
              </div>
              <div>
                <dt>{order.data.mode === "rent" ? t("equipment.rentPrice") : t("equipment.buyPrice")}</dt>
                <dd data-testid="order-price">
                  {order.data.mode === "rent"
                    ? t("portal.dashboard.monthly", { price: format.money(order.data.price) })
                    : format.money(order.data.price)}
                </dd>
              </div>
              <div>
                <dt>{t("equipment.charged")}</dt>
                <dd data-testid="order-charged">{format.money(order.data.charged)}</dd>
              </div>
              {order.data.refunded.minor > 0 && (
                <div>
                  <dt>{t("equipment.refunded")}</dt>
                  <dd data-testid="order-refunded">{format.money(order.data.refunded)}</dd>
                </div>
              )}
              <div>
                <dt>{t("equipment.ordered")}</dt>
                <dd>{format.dateTime(order.data.created_at)}</dd>
              </div>
              <div>
                <dt>{t("equipment.phone")}</dt>
                <dd>{order.data.contact_phone}</dd>
              </div>
              {order.data.rent_ended_at && (
                <div>
                  <dt>{t("equipment.rentEnded")}</dt>
                  <dd>{format.date(order.data.rent_ended_at)}</dd>
                </div>
              )}
            </dl>
            {order.data.delivery_note && (
              <p className="order-page__note">
                <span className="muted">{t("equipment.note")}: </span>
                {order.data.delivery_note}
              </p>
            )}
            <p className="muted">{t(`equipment.statusHelp.${order.data.status}`)}</p>
            {order.data.can_cancel &&
              (confirming ? (
                <div className="confirm-box" role="group" aria-label={t("equipment.cancelTitle")}>
                  <h3>{t("equipment.cancelTitle")}</h3>
                  <p>
                    {order.data.charged.minor > 0
                      ? t("equipment.cancelRefund", { amount: format.money(order.data.charged) })
                      : t("equipment.cancelFree")}
                  </p>
                  {cancel.error && <ErrorNotice error={cancel.error} />}
                  <div className="confirm-box__actions">
                    <button
                      type="button"
                      className="button button--ghost"
                      disabled={cancel.isPending}
                      onClick={() => {
                        setConfirming(false);
                      }}
                    >
                      {t("equipment.keep")}
                    </button>
                    <button
                      type="button"
                      className="button button--primary"
                      disabled={cancel.isPending}
                      onClick={() => {
                        cancel.mutate(undefined, {
                          onSuccess: () => {
                            setConfirming(false);
                          },
                        });
                      }}
                      data-testid="order-cancel-confirm"
                    >
                      {cancel.isPending ? t("equipment.cancelling") : t("equipment.cancelOrder")}
                    </button>
                  </div>
                </div>
              ) : (
                <div>
                  <button
                    type="button"
                    className="button"
                    onClick={() => {
                      setConfirming(true);
                    }}
                    data-testid="order-cancel"
                  >
                    {t("equipment.cancelOrder")}
                  </button>
                </div>
              ))}
          </section>
          <section className="card stack" aria-labelledby="order-history-title">
            <h2 id="order-history-title">{t("equipment.history.title")}</h2>
            <OrderHistory steps={order.data.history} reader="subscriber" />
          </section>
        </>
      )}
    </div>
  );
}
