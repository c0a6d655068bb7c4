import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, data } from "../../api/client";
import { useFormat } from "../../shared/i18n/format";
import { PLAN_QUERY } from "./plan";

/**
 * The console's warning strip: a limit of the SaaS plan at 80 % / 95 %, or an unpaid
 * subscription (past due, read-only). Shows nothing while all is well.
 */
export function PlanBanner() {
  const { t } = useTranslation();
  const format = useFormat();
  const plan = useQuery({
    queryKey: PLAN_QUERY,
    queryFn: () => data(api.GET("/console/plan")),
    staleTime: 60_000,
  });
  if (!plan.data) return null;
  const { billing, warning, next_step_at: nextStepAt } = plan.data;
  if (billing === "past_due" || billing === "read_only") {
    return (
      <div className="notice notice--error plan-banner" role="alert" data-testid="plan-banner" data-kind={billing}>
        <p className="notice__headline">{t(`saasPlans.console.billing.${billing}`)}</p>
        {nextStepAt && (
          <p className="notice__detail">{t(`saasPlans.console.billing.${billing}Next`, { date: format.date(nextStepAt) })}</p>
        )}
      </div>
    );
  }
  if (warning === "none") return null;
  const near = plan.data.usage.filter((u) => u.warning !== "none").map((u) => t(`saasPlans.limits.${u.limit}`));
  return (
    <div
      className={`notice ${warning === "critical" ? "notice--error" : "notice--warning"} plan-banner`}
      role="status"
      data-testid="plan-banner"
      data-kind={warning}
    >
      <p className="notice__headline">
        {t(`saasPlans.console.warning.${warning}`, { limits: near.join(", ") })}{" "}
        <Link to="/console/plan">{t("saasPlans.console.details")}</Link>
      </p>
    </div>
  );
}
