import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, data } from "../../api/client";
import "../../shared/session/sign-in.css";
import { CredentialsForm } from "../../shared/session/CredentialsForm";
import { SecondFactorForm } from "../../shared/session/SecondFactorForm";
import { useTwoStepSignIn } from "../../shared/session/twoStep";
import { usePageTitle, useSite } from "../../shared/site/site";

export function SubscriberSignIn() {
  const { t } = useTranslation();
  usePageTitle(t("auth.subscriberTitle"));
  const { signIn, submit, challenge, expired, restart } = useTwoStepSignIn(
    (body: { login: string; password: string }) => data(api.POST("/auth/subscriber/login", { body })),
  );
  // A new ISP still setting up: say so instead of a form that can only refuse.
  const published = useSite().data?.published !== false;
  if (challenge) return <SecondFactorForm challenge={challenge} onRestart={restart} />;
  if (!published) {
    return (
      <section className="sign-in card" data-testid="portal-not-published">
        <h1>{t("auth.notPublishedTitle")}</h1>
        <p className="muted">{t("auth.notPublished")}</p>
      </section>
    );
  }
  return (
    <CredentialsForm
      title={t("auth.subscriberTitle")}
      identifierLabel={t("auth.subscriberLogin")}
      identifierHint={t("auth.subscriberHint")}
      identifierType="text"
      pending={signIn.isPending}
      error={signIn.error}
      notice={expired ? t("auth.secondFactor.expired") : undefined}
      footer={
        <Link to="/forgot-password" data-testid="forgot-password-link">
          {t("auth.forgot")}
        </Link>
      }
      onSubmit={(login, password) => {
        submit({ login, password });
      }}
    />
  );
}
