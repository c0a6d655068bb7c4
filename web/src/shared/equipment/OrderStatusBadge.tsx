import { useTranslation } from "react-i18next";
import type { OrderStatus } from "../../api/types";
import { Badge, type BadgeTone } from "../ui/Badge";

const TONE: Record<OrderStatus, BadgeTone> = {
  new: "info",
  confirmed: "warning",
  delivered: "success",
  installed: "success",
  cancelled: "neutral",
  returned: "neutral",
};

export function OrderStatusBadge({ status }: { status: OrderStatus }) {
  const { t } = useTranslation();
  return (
    <Badge tone={TONE[status]} testId="order-status">
      {t(`equipment.statuses.${status}`)}
    </Badge>
  );
}
