import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useSearchParams } from "react-router";
import { api, data } from "../../api/client";
import "../../shared/session/sign-in.css";
import { useSignIn } from "../../shared/session/session";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";

/**
 * The link from the signup letter (`/console/confirm?token=…`): confirms the owner's e-mail,
 * signs them in on their new ISP's own host and opens the first-run checklist.
 */
export function ConfirmSignupPage() {
  const { t } = useTranslation();
  usePageTitle(t("onboarding.confirmTitle"));
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const confirm = useSignIn((body: { token: string }) => data(api.POST("/auth/signup/confirm", { body })));
  const sent = useRef(false);
  useEffect(() => {
    // Once: the token is spent by the first request (StrictMode would otherwise send it twice).
    if (sent.current || token === "") return;
    sent.current = true;
    confirm.mutate({ token });
  }, [confirm, token]);

  if (confirm.isSuccess) return <Navigate to="/console/onboarding" replace />;
  return (
    <section className="sign-in card" data-testid="signup-confirm">
      <h1>{t("onboarding.confirmTitle")}</h1>
      {token === "" && <p>{t("onboarding.noToken")}</p>}
      {confirm.isPending && <Loading />}
      {confirm.isError && <ErrorNotice error={confirm.error} />}
      {(confirm.isError || token === "") && (
        <div className="sign-in__links">
          <Link to="/console">{t("onboarding.toSignIn")}</Link>
        </div>
      )}
    </section>
  );
}
