import { useTranslation } from "react-i18next";
import type { OrderStep } from "../../api/types";
import { useFormat } from "../i18n/format";
import { OrderStatusBadge } from "./OrderStatusBadge";
import "./equipment.css";

/**
 * An order's steps, oldest first: the status, who moved it and when, and their note. `reader`
 * names the subscriber's own steps "you" in the cabinet and "the subscriber" in the console.
 */
export function OrderHistory({ steps, reader }: { steps: readonly OrderStep[]; reader: "subscriber" | "staff" }) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <ol className="order-history" data-testid="order-history">
      {steps.map((step, i) => (
        <li key={i} className="order-history__step" data-status={step.status}>
          <div className="order-history__head">
            <OrderStatusBadge status={step.status} />
            <time dateTime={step.at} className="muted">
              {format.dateTime(step.at)}
            </time>
          </div>
          <p className="order-history__who muted">
            {step.actor === "staff"
              ? t("equipment.history.staff", { name: step.actor_name ?? "" })
              : step.actor === "subscriber"
                ? t(reader === "subscriber" ? "equipment.history.you" : "equipment.history.subscriber")
                : t("equipment.history.system")}
          </p>
          {step.note && <p className="order-history__note">{step.note}</p>}
        </li>
      ))}
    </ol>
  );
}
