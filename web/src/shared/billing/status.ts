import type { AccountStatus } from "../../api/types";
import type { BadgeTone } from "../ui/Badge";

export const ACCOUNT_STATUS_TONE: Record<AccountStatus, BadgeTone> = {
  active: "success",
  blocked: "danger",
  suspended: "warning",
};
