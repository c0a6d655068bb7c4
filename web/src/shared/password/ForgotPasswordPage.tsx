import { useEffect, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { ResetAudience } from "../../api/types";
import "../session/sign-in.css";
import { usePageTitle } from "../site/site";
import { ErrorNotice } from "../ui/ErrorNotice";
import { Field } from "../ui/Field";
import { useRequestPasswordReset } from "./password";

/**
 * "Forgot your password?": asks for the account number or e-mail (staff: e-mail), then says to
 * check the mail, in the same words whether or not such an account exists.
 */
export function ForgotPasswordPage({ audience, signIn }: { audience: ResetAudience; signIn: string }) {
  const { t } = useTranslation();
  usePageTitle(t("auth.forgotPassword.title"));
  const request = useRequestPasswordReset();
  const [login, setLogin] = useState("");
  const sentRef = useRef<HTMLElement>(null);
  const staff = audience === "staff";

  useEffect(() => {
    if (request.isSuccess) sentRef.current?.focus();
  }, [request.isSuccess]);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (request.isPending || login.trim() === "") return;
    request.mutate({ audience, login: login.trim() });
  }

  if (request.isSuccess) {
    return (
      <section
        ref={sentRef}
        tabIndex={-1}
        className="sign-in card"
        aria-labelledby="reset-sent-title"
        data-testid="reset-requested"
      >
        <h1 id="reset-sent-title">{t("auth.forgotPassword.sentTitle")}</h1>
        <p>{t("auth.forgotPassword.sent")}</p>
        <p className="muted">{t("auth.forgotPassword.noMail")}</p>
        <div className="sign-in__links">
          <Link to={signIn} data-testid="back-to-sign-in">
            {t("auth.forgotPassword.back")}
          </Link>
        </div>
      </section>
    );
  }

  return (
    <section className="sign-in card" aria-labelledby="forgot-title" data-testid="forgot-password">
      <h1 id="forgot-title">{t("auth.forgotPassword.title")}</h1>
      <p className="muted">{staff ? t("auth.forgotPassword.introStaff") : t("auth.forgotPassword.intro")}</p>
      <form className="form" onSubmit={submit} data-testid="forgot-password-form">
        <Field
          label={staff ? t("auth.email") : t("auth.forgotPassword.login")}
          hint={staff ? undefined : t("auth.subscriberHint")}
        >
          {(control) => (
            <input
              {...control}
              name="username"
              type={staff ? "email" : "text"}
              autoComplete="username"
              inputMode={staff ? "email" : "text"}
              autoCapitalize="none"
              spellCheck={false}
              maxLength={254}
              required
              value={login}
              onChange={(e) => {
                setLogin(e.target.value);
              }}
              data-testid="forgot-password-login"
            />
          )}
        </Field>
        {request.isError && <ErrorNotice error={request.error} />}
        <button
          type="submit"
          className="button button--primary button--block"
          disabled={request.isPending}
          data-testid="forgot-password-submit"
        >
          {request.isPending ? t("auth.forgotPassword.submitting") : t("auth.forgotPassword.submit")}
        </button>
      </form>
      <div className="sign-in__links">
        <Link to={signIn}>{t("auth.forgotPassword.back")}</Link>
      </div>
    </section>
  );
}
