import { useTranslation } from "react-i18next";
import type { TicketStatus } from "../../api/types";
import { Badge, type BadgeTone } from "../ui/Badge";

const TONE: Record<TicketStatus, BadgeTone> = {
  new: "info",
  open: "info",
  waiting_on_customer: "warning",
  resolved: "success",
  closed: "neutral",
};

/** `audience="subscriber"` words the status for the customer ("awaiting your reply"). */
export function TicketStatusBadge({
  status,
  audience = "staff",
}: {
  status: TicketStatus;
  audience?: "subscriber" | "staff";
}) {
  const { t } = useTranslation();
  const label =
    audience === "subscriber" && status === "waiting_on_customer"
      ? t("ticket.awaitingYourReply")
      : t(`ticket.statuses.${status}`);
  return (
    <Badge tone={TONE[status]} testId="ticket-status">
      {label}
    </Badge>
  );
}
