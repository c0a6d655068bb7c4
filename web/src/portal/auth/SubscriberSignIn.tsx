import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, data } from "../../api/client";
import { CredentialsForm } from "../../shared/session/CredentialsForm";
import { SecondFactorForm } from "../../shared/session/SecondFactorForm";
import { useTwoStepSignIn } from "../../shared/session/twoStep";
import { usePageTitle } from "../../shared/site/site";

export function SubscriberSignIn() {
  const { t } = useTranslation();
  usePageTitle(t("auth.subscriberTitle"));
  const { signIn, submit, challenge, expired, restart } = useTwoStepSignIn(
    (body: { login: string; password: string }) => data(api.POST("/auth/subscriber/login", { body })),
  );
  if (challenge) return <SecondFactorForm challenge={challenge} onRestart={restart} />;
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
