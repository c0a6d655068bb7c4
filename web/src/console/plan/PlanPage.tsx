import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge, type BadgeTone } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { formatBytes, type LimitUsage, PLAN_QUERY, percentUsed } from "./plan";
import { SaasBillingSection } from "./SaasBillingSection";
import "./plan.css";

const WARNING_TONE: Record<LimitUsage["warning"], BadgeTone> = {
  none: "success",
  approaching: "warning",
  critical: "danger",
};

/** The ISP's SaaS plan: price, limits with what is used of each, features, billing standing. */
export function PlanPage() {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  usePageTitle(t("saasPlans.console.title"));
  const plan = useQuery({ queryKey: PLAN_QUERY, queryFn: () => data(api.GET("/console/plan")) });
  const amount = (usage: LimitUsage, value: number) =>
    usage.limit === "storage" ? formatBytes(value, i18n.language) : format.number(value);

  return (
    <div className="stack">
      <header className="page-header">
        <h1>{t("saasPlans.console.title")}</h1>
      </header>
      {plan.isPending && <Loading />}
      {plan.isError && (
        <ErrorNotice
          error={plan.error}
          onRetry={() => {
            void plan.refetch();
          }}
        />
      )}
      {plan.data && (
        <>
          <section className="card plan-summary" data-testid="console-plan">
            <h2 data-testid="console-plan-name">{plan.data.plan.name}</h2>
            <p className="muted">
              {t("saasPlans.pricePerSubscriber", {
                price: format.money({ minor: plan.data.plan.price_per_subscriber, currency: plan.data.plan.currency }),
              })}
            </p>
            <p>
              <Badge tone={plan.data.billing === "current" ? "success" : "warning"}>
                {t(`saasPlans.billing.${plan.data.billing}`)}
              </Badge>
            </p>
            {plan.data.plan.features.length > 0 && (
              <ul className="plain-list plan-features">
                {plan.data.plan.features.map((f) => (
                  <li key={f}>{t(`saasPlans.features.${f}`)}</li>
                ))}
              </ul>
            )}
          </section>
          <section className="card" aria-labelledby="plan-usage-title">
            <h2 id="plan-usage-title">{t("saasPlans.console.usage")}</h2>
            <ul className="plain-list plan-usage">
              {plan.data.usage.map((usage) => {
                const percent = percentUsed(usage);
                return (
                  <li key={usage.limit} data-testid="plan-usage" data-limit={usage.limit} data-warning={usage.warning}>
                    <div className="plan-usage__head">
                      <span>{t(`saasPlans.limits.${usage.limit}`)}</span>
                      <span>
                        {usage.max === undefined
                          ? t("saasPlans.console.usedUnlimited", { used: amount(usage, usage.used) })
                          : t("saasPlans.console.usedOf", {
                              used: amount(usage, usage.used),
                              max: amount(usage, usage.max),
                            })}{" "}
                        {usage.warning !== "none" && (
                          <Badge tone={WARNING_TONE[usage.warning]}>{t(`saasPlans.warnings.${usage.warning}`)}</Badge>
                        )}
                      </span>
                    </div>
                    {percent !== null && (
                      <progress
                        className={`plan-meter plan-meter--${usage.warning}`}
                        max={100}
                        value={percent}
                        aria-label={t(`saasPlans.limits.${usage.limit}`)}
                      />
                    )}
                  </li>
                );
              })}
            </ul>
            <p className="muted">{t("saasPlans.console.measured", { at: format.dateTime(plan.data.measured_at) })}</p>
          </section>
          <SaasBillingSection />
        </>
      )}
    </div>
  );
}
