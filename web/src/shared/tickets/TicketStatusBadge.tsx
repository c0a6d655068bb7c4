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

export function TicketStatusBadge({ status }: { status: TicketStatus }) {
  const { t } = useTranslation();
  return (
    <Badge tone={TONE[status]} testId="ticket-status">
      {t(`ticket.statuses.${status}`)}
    </Badge>
  );
}
