import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import { useSignIn } from "../../shared/session/session";
import { CredentialsForm } from "../../shared/session/CredentialsForm";
import { usePageTitle } from "../../shared/site/site";

export function SubscriberSignIn() {
  const { t } = useTranslation();
  usePageTitle(t("auth.subscriberTitle"));
  const signIn = useSignIn((body: { login: string; password: string }) =>
    data(api.POST("/auth/subscriber/login", { body })),
  );
  return (
    <CredentialsForm
      title={t("auth.subscriberTitle")}
      identifierLabel={t("auth.subscriberLogin")}
      identifierHint={t("auth.subscriberHint")}
      identifierType="text"
      pending={signIn.isPending}
      error={signIn.error}
      onSubmit={(login, password) => {
        signIn.mutate({ login, password });
      }}
    />
  );
}
