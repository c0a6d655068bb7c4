import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import type { ConsoleEquipmentOrderDetail, OrderStatus, OrderStatusChanged } from "../../api/types";
import { OrderHistory } from "../../shared/equipment/OrderHistory";
import { OrderStatusBadge } from "../../shared/equipment/OrderStatusBadge";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { BILLING_READ, useHasPermission } from "../subscribers/billing";
import { ORDERS_MANAGE, useChangeOrderStatus, useConsoleOrder } from "./orders";
import "../../shared/equipment/equipment.css";
import "./orders.css";

const NOTE_MAX = 1000;

/** One order for staff: what, whose, its history, and moving it on with a note. */
export function OrderViewPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const { id = "" } = useParams();
  const order = useConsoleOrder(id);
  const mayManage = useHasPermission(ORDERS_MANAGE);
  const mayOpenBilling = useHasPermission(BILLING_READ);
  const [done, setDone] = useState<OrderStatusChanged>();
  usePageTitle(order.data ? t("equipment.orderNumber", { number: order.data.number }) : t("console.orders.title"));

  return (
    <div className="stack" data-testid="console-order">
      <Link to="/console/orders" className="back-link">
        ← {t("console.orders.title")}
      </Link>
      {order.isPending && <Loading />}
      {order.isError && <ErrorNotice error={order.error} />}
      {order.data && (
        <>
          <header className="page-header page-header--row">
            <h1>{t("equipment.orderNumber", { number: order.data.number })}</h1>
            <OrderStatusBadge status={order.data.status} />
          </header>
          {done && <Outcome changed={done} />}
          <div className="console-order__grid">
            <section className="card stack" aria-label={t("equipment.details")}>
              <h2 className="order-page__item">{order.data.item_name}</h2>
              <dl className="facts">
                <div>
                  <dt>{t("console.queue.subscriber")}</dt>
                  <dd>
                    {order.data.subscriber_name}
                    {" · "}
                    {mayOpenBilling ? (
                      <Link to={`/console/subscribers/${encodeURIComponent(order.data.account_number)}`}>
                        {order.data.account_number}
                      </Link>
                    ) : (
                      order.data.account_number
                    )}
                  </dd>
                </div>
                <div>
                  <dt>{t("console.orders.phone")}</dt>
                  <dd>
                    <a href={`tel:${order.data.contact_phone}`}>{order.data.contact_phone}</a>
                  </dd>
                </div>
                <div>
                  <dt>{t("equipment.mode")}</dt>
                  <dd>{t(`equipment.modes.${order.data.mode}`)}</dd>
                </div>
                <div>
                  <dt>{order.data.mode === "rent" ? t("equipment.rentPrice") : t("equipment.buyPrice")}</dt>
                  <dd>
                    {order.data.mode === "rent"
                      ? t("portal.dashboard.monthly", { price: format.money(order.data.price) })
                      : format.money(order.data.price)}
                  </dd>
                </div>
                <div>
                  <dt>{t("equipment.charged")}</dt>
                  <dd>{format.money(order.data.charged)}</dd>
                </div>
                {order.data.refunded.minor > 0 && (
                  <div>
                    <dt>{t("equipment.refunded")}</dt>
                    <dd>{format.money(order.data.refunded)}</dd>
                  </div>
                )}
                <div>
                  <dt>{t("equipment.ordered")}</dt>
                  <dd>{format.dateTime(order.data.created_at)}</dd>
                </div>
              </dl>
              {order.data.delivery_note && (
                <p className="order-page__note">
                  <span className="muted">{t("equipment.note")}: </span>
                  {order.data.delivery_note}
                </p>
              )}
              <h3>{t("equipment.history.title")}</h3>
              <OrderHistory steps={order.data.history} reader="staff" />
            </section>
            <aside className="console-order__side">
              {mayManage ? (
                <StatusForm key={order.data.id} order={order.data} onDone={setDone} />
              ) : (
                <p className="notice notice--info" data-testid="order-read-only">
                  {t("console.orders.readOnly")}
                </p>
              )}
            </aside>
          </div>
        </>
      )}
    </div>
  );
}

function StatusForm({
  order,
  onDone,
}: {
  order: ConsoleEquipmentOrderDetail;
  onDone: (changed: OrderStatusChanged) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const noteId = useId();
  const change = useChangeOrderStatus(order.id);
  const [chosen, setTo] = useState<OrderStatus>();
  const [note, setNote] = useState("");
  // Stays mounted while the order moves on (so the answer reaches it); a choice the new status
  // no longer allows falls back to the first allowed one.
  const to = chosen !== undefined && order.next_statuses.includes(chosen) ? chosen : order.next_statuses[0];

  if (order.next_statuses.length === 0) {
    return (
      <p className="card muted" data-testid="order-final">
        {t("console.orders.final")}
      </p>
    );
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!to) return;
    change.mutate(
      { status: to, note: note.trim() },
      {
        onSuccess: (changed) => {
          setNote("");
          onDone(changed);
        },
      },
    );
  }

  const refunds = to === "cancelled" || to === "returned";
  return (
    <form className="card form" onSubmit={submit} data-testid="order-status-form">
      <h2>{t("console.orders.move")}</h2>
      <fieldset className="status-choice">
        <legend className="field__label">{t("console.orders.to")}</legend>
        {order.next_statuses.map((s) => (
          <label key={s} className="status-choice__option">
            <input
              type="radio"
              name="status"
              value={s}
              checked={to === s}
              onChange={() => {
                setTo(s);
              }}
              data-testid={`order-to-${s}`}
            />
            {t(`equipment.statuses.${s}`)}
          </label>
        ))}
      </fieldset>
      {refunds && (
        <p className="notice notice--warning" data-testid="order-refund-warning">
          {to === "cancelled"
            ? t("console.orders.cancelRefunds", { amount: format.money(order.charged) })
            : t("console.orders.returnRefunds")}
        </p>
      )}
      <div className="field">
        <label className="field__label" htmlFor={noteId}>
          {t("console.orders.note")}
        </label>
        <textarea
          id={noteId}
          rows={3}
          value={note}
          maxLength={NOTE_MAX}
          onChange={(e) => {
            setNote(e.target.value);
          }}
          aria-describedby={`${noteId}-hint`}
          data-testid="order-status-note"
        />
        <p className="field__hint" id={`${noteId}-hint`}>
          {t("console.orders.noteHint")}
        </p>
      </div>
      {change.error && <ErrorNotice error={change.error} />}
      <div className="form__actions">
        <button
          type="submit"
          className="button button--primary"
          disabled={!to || change.isPending}
          data-testid="order-status-submit"
        >
          {change.isPending ? t("console.orders.saving") : t("console.orders.submit")}
        </button>
      </div>
    </form>
  );
}

function Outcome({ changed }: { changed: OrderStatusChanged }) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <p className="notice notice--success" role="status" data-testid="order-status-done">
      {t("console.orders.moved", { status: t(`equipment.statuses.${changed.order.status}`) })}
      {changed.refunded.minor > 0 && ` ${t("console.orders.refunded", { amount: format.money(changed.refunded) })}`}
    </p>
  );
}
