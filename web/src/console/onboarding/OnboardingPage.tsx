import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, data } from "../../api/client";
import type { ChecklistStep } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { siteQuery, usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { SETTINGS_MANAGE, useHasPermission } from "../subscribers/billing";
import "./onboarding.css";

const onboardingKey = ["console", "onboarding"] as const;

/** Where each step is done in the console (or nowhere yet: the step says what to do). */
const STEP_LINK: Partial<Record<ChecklistStep, string>> = {
  branding: "/console/settings/branding",
  tariffs: "/console/catalogue",
  subscribers: "/console/subscribers/import",
  payments: "/console/settings/payments",
  staff: "/console/staff",
};

/**
 * A new ISP's first-run checklist: branding, tariffs, subscribers, card payments, colleagues,
 * and publishing the portal — which opens it to subscribers.
 */
export function OnboardingPage() {
  const { t } = useTranslation();
  const format = useFormat();
  usePageTitle(t("onboarding.title"));
  const client = useQueryClient();
  const mayPublish = useHasPermission(SETTINGS_MANAGE);
  const onboarding = useQuery({
    queryKey: onboardingKey,
    queryFn: () => data(api.GET("/console/onboarding")),
  });
  const publish = useMutation({
    mutationFn: () => data(api.POST("/console/onboarding/publish")),
    onSuccess: (result) => {
      client.setQueryData(onboardingKey, result);
      void client.invalidateQueries({ queryKey: siteQuery.queryKey });
    },
  });

  if (onboarding.isPending) return <Loading />;
  if (onboarding.isError) {
    return (
      <ErrorNotice
        error={onboarding.error}
        onRetry={() => {
          void onboarding.refetch();
        }}
      />
    );
  }
  const { items, published, trial_ends_at } = onboarding.data;
  const done = items.filter((i) => i.done).length;
  return (
    <div className="stack onboarding" data-testid="onboarding">
      <header className="page-header">
        <h1>{t("onboarding.title")}</h1>
        <p className="muted">
          {t("onboarding.progress", { done, total: items.length })}
          {trial_ends_at && ` · ${t("onboarding.trial", { date: format.date(trial_ends_at) })}`}
        </p>
      </header>
      <ol className="card onboarding__steps">
        {items.map((item) => (
          <li
            key={item.step}
            className={`onboarding__step${item.done ? " onboarding__step--done" : ""}`}
            data-testid="onboarding-step"
            data-step={item.step}
            data-done={item.done}
          >
            <span className="onboarding__mark" aria-hidden="true">
              {item.done ? "✓" : ""}
            </span>
            <div className="onboarding__text">
              <strong>{t(`onboarding.steps.${item.step}.title`)}</strong>
              <span className="muted">{t(`onboarding.steps.${item.step}.hint`)}</span>
            </div>
            {item.step === "publish"
              ? !published &&
                mayPublish && (
                  <button
                    type="button"
                    className="button button--primary button--small"
                    disabled={publish.isPending}
                    onClick={() => {
                      publish.mutate();
                    }}
                    data-testid="onboarding-publish"
                  >
                    {t("onboarding.publish")}
                  </button>
                )
              : !item.done &&
                STEP_LINK[item.step] && (
                  <Link className="button button--small" to={STEP_LINK[item.step] ?? "/console"}>
                    {t("onboarding.open")}
                  </Link>
                )}
          </li>
        ))}
      </ol>
      {publish.isError && <ErrorNotice error={publish.error} />}
      {published && (
        <p className="card onboarding__live" data-testid="onboarding-live">
          {t("onboarding.live")}{" "}
          <a href="/" target="_blank" rel="noreferrer">
            {window.location.host}
          </a>
        </p>
      )}
    </div>
  );
}
