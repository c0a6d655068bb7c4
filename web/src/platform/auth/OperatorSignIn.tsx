import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, data } from "../../api/client";
import { CredentialsForm } from "../../shared/session/CredentialsForm";
import { useSignIn } from "../../shared/session/session";
import { usePageTitle } from "../../shared/site/site";

export function OperatorSignIn() {
  const { t } = useTranslation();
  usePageTitle(t("auth.operatorTitle"));
  const signIn = useSignIn((body: { email: string; password: string }) =>
    data(api.POST("/auth/operator/login", { body })),
  );
  return (
    <CredentialsForm
      title={t("auth.operatorTitle")}
      identifierLabel={t("auth.email")}
      identifierType="email"
      pending={signIn.isPending}
      error={signIn.error}
      footer={
        <Link to="/signup" data-testid="signup-link">
          {t("signup.cta")}
        </Link>
      }
      onSubmit={(email, password) => {
        signIn.mutate({ email, password });
      }}
    />
  );
}
