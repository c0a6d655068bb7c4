import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import type { Locale } from "../../api/types";
import "../../shared/session/sign-in.css";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { useFormat } from "../../shared/i18n/format";
import { Field } from "../../shared/ui/Field";
import "./signup.css";

const SLUG = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const CURRENCIES = ["RUB", "KZT", "BYN", "UZS", "EUR", "USD"] as const;
const TIME_ZONES = [
  "Europe/Kaliningrad",
  "Europe/Moscow",
  "Europe/Samara",
  "Asia/Yekaterinburg",
  "Asia/Omsk",
  "Asia/Novosibirsk",
  "Asia/Krasnoyarsk",
  "Asia/Irkutsk",
  "Asia/Yakutsk",
  "Asia/Vladivostok",
  "Asia/Almaty",
  "Europe/Minsk",
  "Asia/Tashkent",
  "Europe/Berlin",
  "Europe/London",
] as const;

/** A subdomain from the ISP's name: "Акме Телеком" → "" (Cyrillic is not transliterated), "North Net" → "north-net". */
function slugFrom(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 32)
    .replace(/-+$/g, "");
}

/** Checks the subdomain as it is typed (debounced), so the ISP learns before sending. */
function useSlugCheck(slug: string) {
  const [settled, setSettled] = useState(slug);
  useEffect(() => {
    const timer = setTimeout(() => {
      setSettled(slug);
    }, 300);
    return () => {
      clearTimeout(timer);
    };
  }, [slug]);
  return useQuery({
    queryKey: ["signup", "slug", settled],
    queryFn: () => data(api.GET("/signup/slug", { params: { query: { slug: settled } } })),
    enabled: SLUG.test(settled),
    staleTime: 10_000,
  });
}

/**
 * Self-serve signup on the platform host: the ISP's name and subdomain (checked live), the
 * owner's e-mail and password, country settings and a plan. Then: "check your mail".
 */
export function SignupPage() {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  usePageTitle(t("signup.title"));
  const [ispName, setIspName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugEdited, setSlugEdited] = useState(false);
  const [ownerName, setOwnerName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [currency, setCurrency] = useState<string>("RUB");
  const [timeZone, setTimeZone] = useState<string>("Europe/Moscow");
  const [language, setLanguage] = useState<Locale>(i18n.language.startsWith("en") ? "en" : "ru");
  const [plan, setPlan] = useState("starter");
  const doneRef = useRef<HTMLElement>(null);

  const plans = useQuery({
    queryKey: ["signup", "plans"],
    queryFn: () => data(api.GET("/signup/plans")),
    staleTime: Infinity,
  });
  const chosenPlan = plans.data?.offers.find((p) => p.code === plan);
  const check = useSlugCheck(slug);
  const signUp = useMutation({
    mutationFn: () =>
      data(
        api.POST("/signup", {
          body: {
            isp_name: ispName.trim(),
            slug,
            owner_name: ownerName.trim(),
            email: email.trim(),
            password,
            currency,
            time_zone: timeZone,
            language,
            plan,
          },
        }),
      ),
  });

  useEffect(() => {
    if (signUp.isSuccess) doneRef.current?.focus();
  }, [signUp.isSuccess]);

  const slugState = !slug
    ? null
    : !SLUG.test(slug)
      ? "malformed"
      : check.data?.slug === slug
        ? check.data.availability
        : "checking";

  function submit(event: FormEvent) {
    event.preventDefault();
    if (signUp.isPending || slugState === "taken" || slugState === "reserved" || slugState === "malformed") return;
    signUp.mutate();
  }

  if (signUp.isSuccess) {
    return (
      <section ref={doneRef} tabIndex={-1} className="sign-in card" data-testid="signup-done">
        <h1>{t("signup.doneTitle")}</h1>
        <p>{t("signup.done", { email: email.trim() })}</p>
        <p className="muted">
          {t("signup.doneConsole")} <code data-testid="signup-console-url">{signUp.data.console_url}</code>
        </p>
      </section>
    );
  }

  return (
    <section className="signup card" aria-labelledby="signup-title" data-testid="signup">
      <h1 id="signup-title">{t("signup.title")}</h1>
      <p className="muted">{t("signup.intro")}</p>
      <form className="form" onSubmit={submit} data-testid="signup-form">
        <fieldset className="signup__group">
          <legend>{t("signup.isp")}</legend>
          <Field label={t("signup.ispName")}>
            {(control) => (
              <input
                {...control}
                required
                maxLength={200}
                autoComplete="organization"
                value={ispName}
                onChange={(e) => {
                  setIspName(e.target.value);
                  if (!slugEdited) setSlug(slugFrom(e.target.value));
                }}
                data-testid="signup-isp-name"
              />
            )}
          </Field>
          <Field label={t("signup.slug")} hint={t("signup.slugHint")}>
            {(control) => (
              <div className="signup__slug">
                <input
                  {...control}
                  required
                  maxLength={32}
                  autoCapitalize="none"
                  spellCheck={false}
                  value={slug}
                  onChange={(e) => {
                    setSlugEdited(true);
                    setSlug(e.target.value.trim().toLowerCase());
                  }}
                  aria-invalid={slugState === "taken" || slugState === "reserved" || slugState === "malformed"}
                  data-testid="signup-slug"
                />
                <span className="signup__domain">.{window.location.hostname.replace(/^admin\./, "")}</span>
              </div>
            )}
          </Field>
          {slugState && (
            <p className={`signup__slug-state signup__slug-state--${slugState}`} role="status" data-testid="signup-slug-state" data-state={slugState}>
              {t(`signup.slugState.${slugState}`)}
            </p>
          )}
        </fieldset>
        <fieldset className="signup__group">
          <legend>{t("signup.owner")}</legend>
          <Field label={t("signup.ownerName")}>
            {(control) => (
              <input
                {...control}
                required
                maxLength={200}
                autoComplete="name"
                value={ownerName}
                onChange={(e) => {
                  setOwnerName(e.target.value);
                }}
                data-testid="signup-owner-name"
              />
            )}
          </Field>
          <Field label={t("auth.email")}>
            {(control) => (
              <input
                {...control}
                type="email"
                required
                maxLength={254}
                autoComplete="email"
                inputMode="email"
                value={email}
                onChange={(e) => {
                  setEmail(e.target.value);
                }}
                data-testid="signup-email"
              />
            )}
          </Field>
          <Field label={t("auth.password")} hint={t("signup.passwordHint")}>
            {(control) => (
              <input
                {...control}
                type="password"
                required
                minLength={10}
                maxLength={1024}
                autoComplete="new-password"
                value={password}
                onChange={(e) => {
                  setPassword(e.target.value);
                }}
                data-testid="signup-password"
              />
            )}
          </Field>
        </fieldset>
        <fieldset className="signup__group signup__grid">
          <legend>{t("signup.region")}</legend>
          <Field label={t("signup.currency")}>
            {(control) => (
              <select
                {...control}
                value={currency}
                onChange={(e) => {
                  setCurrency(e.target.value);
                }}
                data-testid="signup-currency"
              >
                {CURRENCIES.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t("signup.timeZone")}>
            {(control) => (
              <select
                {...control}
                value={timeZone}
                onChange={(e) => {
                  setTimeZone(e.target.value);
                }}
                data-testid="signup-time-zone"
              >
                {TIME_ZONES.map((z) => (
                  <option key={z} value={z}>
                    {z.replace("_", " ")}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t("signup.language")}>
            {(control) => (
              <select
                {...control}
                value={language}
                onChange={(e) => {
                  setLanguage(e.target.value === "en" ? "en" : "ru");
                }}
                data-testid="signup-language"
              >
                <option value="ru">Русский</option>
                <option value="en">English</option>
              </select>
            )}
          </Field>
          <Field label={t("signup.plan")}>
            {(control) => (
              <select
                {...control}
                value={plan}
                onChange={(e) => {
                  setPlan(e.target.value);
                }}
                data-testid="signup-plan"
              >
                {(plans.data?.offers ?? []).map((p) => (
                  <option key={p.code} value={p.code}>
                    {p.name} — {format.money({ minor: p.price_per_subscriber, currency: p.currency })}
                  </option>
                ))}
                {!plans.data && <option value="starter">starter</option>}
              </select>
            )}
          </Field>
          {chosenPlan && (
            <p className="muted" data-testid="signup-plan-summary">
              {t("saasPlans.pricePerSubscriber", {
                price: format.money({ minor: chosenPlan.price_per_subscriber, currency: chosenPlan.currency }),
              })}
              {" · "}
              {chosenPlan.features.length > 0
                ? chosenPlan.features.map((f) => t(`saasPlans.features.${f}`)).join(", ")
                : t("signup.planBasic")}
            </p>
          )}
        </fieldset>
        <p className="muted">{t("signup.trial")}</p>
        {signUp.isError && <ErrorNotice error={signUp.error} />}
        <button
          type="submit"
          className="button button--primary button--block"
          disabled={signUp.isPending}
          data-testid="signup-submit"
        >
          {signUp.isPending ? t("signup.submitting") : t("signup.submit")}
        </button>
      </form>
    </section>
  );
}
