import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { EquipmentOffer, EquipmentOrder, EquipmentOrderDetail, OrderMode } from "../../api/types";
import { OrderStatusBadge } from "../../shared/equipment/OrderStatusBadge";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { OrderDialog } from "./OrderDialog";
import { useEquipmentCatalogue, useMyOrders } from "./equipment";
import "../../shared/equipment/equipment.css";
import "./equipment.css";

/**
 * The ISP's equipment as cards with their purchase and rent prices; choosing one opens the
 * order dialog (the price and the effect on the balance first, then the order). The
 * subscriber's orders and their status follow below.
 */
export function EquipmentPage() {
  const { t } = useTranslation();
  const format = useFormat();
  usePageTitle(t("equipment.title"));
  const catalogue = useEquipmentCatalogue();
  const orders = useMyOrders();
  const [choice, setChoice] = useState<{ offer: EquipmentOffer; mode: OrderMode }>();
  const [placed, setPlaced] = useState<EquipmentOrderDetail>();
  const placedRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!placed) return;
    placedRef.current?.scrollIntoView({ block: "nearest" });
    placedRef.current?.focus();
  }, [placed]);

  return (
    <div className="stack equipment-page" data-testid="equipment-page">
      <header className="page-header">
        <h1>{t("equipment.title")}</h1>
        <p className="muted">{t("equipment.lead")}</p>
      </header>

      {placed && (
        <div
          ref={placedRef}
          tabIndex={-1}
          className="notice notice--success"
          role="status"
          data-testid="order-placed"
        >
          <p className="notice__headline">
            {t("equipment.placed", { number: placed.number, name: placed.item_name })}
          </p>
          <p>
            {placed.charged.minor > 0
              ? t("equipment.placedCharged", { amount: format.money(placed.charged) })
              : t("equipment.placedFree")}{" "}
            {t("equipment.placedNext")}
          </p>
          <Link to={`/equipment/orders/${placed.id}`} data-testid="order-placed-link">
            {t("equipment.followOrder")}
          </Link>
        </div>
      )}

      {catalogue.isPending && <Loading />}
      {catalogue.isError && (
        <ErrorNotice
          error={catalogue.error}
          onRetry={() => {
            void catalogue.refetch();
          }}
        />
      )}
      {catalogue.isSuccess && catalogue.data.items.length === 0 && (
        <p className="card empty-state">{t("equipment.empty")}</p>
      )}
      {catalogue.isSuccess && catalogue.data.items.length > 0 && (
        <ul className="equipment-grid plain-list" data-testid="equipment-catalogue">
          {catalogue.data.items.map((offer) => (
            <li key={offer.code}>
              <OfferCard
                offer={offer}
                onChoose={(mode) => {
                  setPlaced(undefined);
                  setChoice({ offer, mode });
                }}
              />
            </li>
          ))}
        </ul>
      )}

      <section className="stack" aria-labelledby="my-orders-title">
        <h2 id="my-orders-title" className="section-title">
          {t("equipment.myOrders")}
        </h2>
        {orders.isPending && <Loading />}
        {orders.isError && <ErrorNotice error={orders.error} />}
        {orders.isSuccess && orders.data.items.length === 0 && (
          <p className="muted" data-testid="my-orders-empty">
            {t("equipment.noOrders")}
          </p>
        )}
        {orders.isSuccess && orders.data.items.length > 0 && (
          <ul className="plain-list order-list" data-testid="my-orders">
            {orders.data.items.map((order) => (
              <li key={order.id}>
                <OrderRow order={order} />
              </li>
            ))}
          </ul>
        )}
      </section>

      {choice && (
        <OrderDialog
          key={`${choice.offer.code}:${choice.mode}`}
          offer={choice.offer}
          mode={choice.mode}
          onClose={() => {
            setChoice(undefined);
          }}
          onPlaced={(order) => {
            setChoice(undefined);
            setPlaced(order);
          }}
        />
      )}
    </div>
  );
}

function OfferCard({ offer, onChoose }: { offer: EquipmentOffer; onChoose: (mode: OrderMode) => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const titleId = `equipment-${offer.code}-title`;
  return (
    <article
      className="card equipment-card"
      aria-labelledby={titleId}
      data-testid="equipment-offer"
      data-code={offer.code}
    >
      <p className="equipment-card__kind">{t(`equipment.kinds.${offer.kind}`)}</p>
      <h2 id={titleId} className="equipment-card__name">
        {offer.name}
      </h2>
      {offer.description && <p className="equipment-card__description muted">{offer.description}</p>}
      <dl className="equipment-card__prices">
        {offer.purchase_price && (
          <div>
            <dt>{t("equipment.buyPrice")}</dt>
            <dd data-testid="equipment-buy-price">{format.money(offer.purchase_price)}</dd>
          </div>
        )}
        {offer.monthly_rent && (
          <div>
            <dt>{t("equipment.rentPrice")}</dt>
            <dd data-testid="equipment-rent-price">
              {t("portal.dashboard.monthly", { price: format.money(offer.monthly_rent) })}
            </dd>
          </div>
        )}
      </dl>
      {!offer.available && <p className="notice notice--warning">{t("equipment.outOfStock")}</p>}
      <div className="equipment-card__actions">
        {offer.monthly_rent && (
          <button
            type="button"
            className="button button--primary"
            disabled={!offer.available}
            onClick={() => {
              onChoose("rent");
            }}
            data-testid="equipment-rent"
          >
            {t("equipment.rent")}
          </button>
        )}
        {offer.purchase_price && (
          <button
            type="button"
            className={offer.monthly_rent ? "button" : "button button--primary"}
            disabled={!offer.available}
            onClick={() => {
              onChoose("buy");
            }}
            data-testid="equipment-buy"
          >
            {t("equipment.buy")}
          </button>
        )}
      </div>
    </article>
  );
}

function OrderRow({ order }: { order: EquipmentOrder }) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <Link
      to={`/equipment/orders/${order.id}`}
      className="card order-row"
      data-testid="my-order"
      data-order-id={order.id}
      data-status={order.status}
    >
      <span className="order-row__main">
        <span className="order-row__title">{order.item_name}</span>
        <span className="muted">
          {t("equipment.orderNumber", { number: order.number })} · {format.date(order.created_at)} ·{" "}
          {order.mode === "rent"
            ? t("equipment.rentFor", { price: format.money(order.price) })
            : t("equipment.boughtFor", { price: format.money(order.price) })}
        </span>
      </span>
      <OrderStatusBadge status={order.status} />
    </Link>
  );
}
