import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, data } from "../../api/client";
import { CredentialsForm } from "../../shared/session/CredentialsForm";
import { SecondFactorForm } from "../../shared/session/SecondFactorForm";
import { useTwoStepSignIn } from "../../shared/session/twoStep";
import { usePageTitle } from "../../shared/site/site";

export function StaffSignIn() {
  const { t } = useTranslation();
  usePageTitle(t("auth.staffTitle"));
  const { signIn, submit, challenge, expired, restart } = useTwoStepSignIn(
    (body: { email: string; password: string }) => data(api.POST("/auth/staff/login", { body })),
  );
  if (challenge) return <SecondFactorForm challenge={challenge} onRestart={restart} />;
  return (
    <CredentialsForm
      title={t("auth.staffTitle")}
      identifierLabel={t("auth.email")}
      identifierType="email"
      pending={signIn.isPending}
      error={signIn.error}
      notice={expired ? t("auth.secondFactor.expired") : undefined}
      footer={
        <Link to="/console/forgot-password" data-testid="forgot-password-link">
          {t("auth.forgot")}
        </Link>
      }
      onSubmit={(email, password) => {
        submit({ email, password });
      }}
    />
  );
}
