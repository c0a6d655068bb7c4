import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, data } from "../../api/client";
import type { components } from "../../api/schema";
import { PLAN_QUERY } from "./plan";

type Feature = components["schemas"]["Feature"];

/**
 * On a page whose feature the ISP's SaaS plan does not include: says so before anyone fills a
 * form the server would refuse (`plan_feature_missing`). Shows nothing while the plan has it.
 */
export function PlanFeatureNotice({ feature }: { feature: Feature }) {
  const { t } = useTranslation();
  const plan = useQuery({
    queryKey: PLAN_QUERY,
    queryFn: () => data(api.GET("/console/plan")),
    staleTime: 60_000,
  });
  if (!plan.data || plan.data.plan.features.includes(feature)) return null;
  return (
    <div className="notice notice--warning" role="status" data-testid="plan-feature-missing" data-feature={feature}>
      <p className="notice__headline">
        {t("saasPlans.console.featureMissing", {
          feature: t(`saasPlans.features.${feature}`),
          plan: plan.data.plan.name,
        })}{" "}
        <Link to="/console/plan">{t("saasPlans.console.details")}</Link>
      </p>
    </div>
  );
}
