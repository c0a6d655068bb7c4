import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import { CredentialsForm } from "../../shared/session/CredentialsForm";
import { useSignIn } from "../../shared/session/session";
import { usePageTitle } from "../../shared/site/site";

export function StaffSignIn() {
  const { t } = useTranslation();
  usePageTitle(t("auth.staffTitle"));
  const signIn = useSignIn((body: { email: string; password: string }) =>
    data(api.POST("/auth/staff/login", { body })),
  );
  return (
    <CredentialsForm
      title={t("auth.staffTitle")}
      identifierLabel={t("auth.email")}
      identifierType="email"
      pending={signIn.isPending}
      error={signIn.error}
      onSubmit={(email, password) => {
        signIn.mutate({ email, password });
      }}
    />
  );
}
