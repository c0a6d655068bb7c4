import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router";
import { api, data } from "../../api/client";
import type { CardPayments } from "../../api/types";
import { useBranding, usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Field } from "../../shared/ui/Field";
import { Loading } from "../../shared/ui/Loading";
import "./card-payments.css";
import { PlanFeatureNotice } from "../plan/PlanFeatureNotice";

const cardPaymentsKey = ["console", "settings", "card-payments"] as const;


/**
 * Card payments: the ISP connects its own Stripe account through Stripe's hosted onboarding.
 * Coming back from Stripe (`?stripe=return`) the page asks Stripe where the account stands, so
 * the owner never waits for a webhook; an expired link (`?stripe=refresh`) offers a new one.
 */
export function CardPaymentsPage() {
  const { t } = useTranslation();
  usePageTitle(t("settings.cardPayments.title"));
  const client = useQueryClient();
  const [searchParams, setSearchParams] = useSearchParams();
  const [back] = useState(() => searchParams.get("stripe"));
  const current = useQuery({
    queryKey: cardPaymentsKey,
    queryFn: () => data(api.GET("/console/settings/payments")),
  });
  const refresh = useMutation({
    mutationFn: () => data(api.POST("/console/settings/payments/refresh", {})),
    onSuccess: (fresh) => {
      client.setQueryData(cardPaymentsKey, fresh);
      void client.invalidateQueries({ queryKey: ["console", "onboarding"] });
    },
  });
  // Back from Stripe: ask once, then drop the marker from the address.
  const asked = useRef(false);
  useEffect(() => {
    if (back !== "return" || asked.current) return;
    asked.current = true;
    refresh.mutate();
    setSearchParams({}, { replace: true });
  }, [back, refresh, setSearchParams]);

  return (
    <div className="stack card-payments-page" data-testid="card-payments-page">
      <header className="page-header">
        <h1>{t("settings.cardPayments.title")}</h1>
        <p className="muted">{t("settings.cardPayments.intro")}</p>
      </header>
      <PlanFeatureNotice feature="online_payments" />
      {current.isPending && <Loading />}
      {current.isError && <ErrorNotice error={current.error} onRetry={() => void current.refetch()} />}
      {refresh.isError && <ErrorNotice error={refresh.error} />}
      {current.data && (
        <StateCard
          payments={current.data}
          back={back}
          checking={refresh.isPending}
          onCheck={() => {
            refresh.mutate();
          }}
        />
      )}
    </div>
  );
}

function StateCard({
  payments,
  back,
  checking,
  onCheck,
}: {
  payments: CardPayments;
  back: string | null;
  checking: boolean;
  onCheck: () => void;
}) {
  const { t } = useTranslation();
  const state = payments.state;
  return (
    <section className={`card card-payments card-payments--${state}`} data-testid="card-payments-state" data-state={state}>
      <p className="card-payments__status">
        <span className="card-payments__dot" aria-hidden="true" />
        <strong>{t(`settings.cardPayments.state.${state}`)}</strong>
      </p>
      <p className="muted">{t(`settings.cardPayments.explain.${state}`)}</p>
      {payments.account_id && (
        <p className="card-payments__account">
          {t("settings.cardPayments.account")} <code data-testid="card-payments-account">{payments.account_id}</code>
        </p>
      )}
      {back === "refresh" && state !== "enabled" && (
        <p className="notice" role="status">
          {t("settings.cardPayments.linkExpired")}
        </p>
      )}
      {!payments.platform_ready ? (
        <p className="notice" data-testid="card-payments-unavailable">
          {t("settings.cardPayments.platformNotReady")}
        </p>
      ) : state === "enabled" ? null : (
        <StartOnboarding resume={state === "pending"} checking={checking} onCheck={onCheck} />
      )}
    </section>
  );
}

function StartOnboarding({ resume, checking, onCheck }: { resume: boolean; checking: boolean; onCheck: () => void }) {
  const { t } = useTranslation();
  // A first guess from the portal's language; the owner can change it.
  const locale = useBranding()?.default_locale;
  const [country, setCountry] = useState(locale === "ru" ? "RU" : "");
  const start = useMutation({
    mutationFn: () => data(api.POST("/console/settings/payments/onboarding", { body: { country } })),
    onSuccess: (link) => {
      window.location.assign(link.url);
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!start.isPending) start.mutate();
  }
  return (
    <form className="form card-payments__form" onSubmit={submit} data-testid="card-payments-form">
      {!resume && (
        <Field label={t("settings.cardPayments.country")} hint={t("settings.cardPayments.countryHint")}>
          {(control) => (
            <input
              {...control}
              required
              pattern="[A-Za-z]{2}"
              maxLength={2}
              autoCapitalize="characters"
              value={country}
              onChange={(e) => {
                setCountry(e.target.value.toUpperCase());
              }}
              data-testid="card-payments-country"
            />
          )}
        </Field>
      )}
      {start.isError && <ErrorNotice error={start.error} />}
      <div className="card-payments__actions">
        <button type="submit" className="button button--primary" disabled={start.isPending} data-testid="card-payments-connect">
          {start.isPending
            ? t("settings.cardPayments.opening")
            : resume
              ? t("settings.cardPayments.resume")
              : t("settings.cardPayments.connect")}
        </button>
        {resume && (
          <button type="button" className="button" disabled={checking} onClick={onCheck} data-testid="card-payments-check">
            {checking ? t("settings.cardPayments.checking") : t("settings.cardPayments.check")}
          </button>
        )}
      </div>
    </form>
  );
}
