import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate } from "react-router";
import { ApiError } from "../../api/client";
import "../session/sign-in.css";
import { usePageTitle } from "../site/site";
import { ErrorNotice } from "../ui/ErrorNotice";
import { NewPasswordFields } from "./NewPasswordFields";
import { passwordProblems, useCompletePasswordReset, type PasswordProblems } from "./password";

/**
 * `/reset-password?token=…`, the link from the e-mail: a new password, then "sign in". The token
 * leaves the address bar at once (history, shared screenshots), kept in memory only.
 */
export function ResetPasswordPage() {
  const { t } = useTranslation();
  usePageTitle(t("auth.resetPassword.title"));
  const id = useId();
  const location = useLocation();
  const navigate = useNavigate();
  const [token] = useState(() => new URLSearchParams(location.search).get("token") ?? "");
  const complete = useCompletePasswordReset();
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [show, setShow] = useState(false);
  const [problems, setProblems] = useState<PasswordProblems>({});
  const doneRef = useRef<HTMLElement>(null);

  useEffect(() => {
    if (location.search.includes("token=")) void navigate(location.pathname, { replace: true });
  }, [location.pathname, location.search, navigate]);
  useEffect(() => {
    if (complete.isSuccess) doneRef.current?.focus();
  }, [complete.isSuccess]);

  const tokenDead = complete.error instanceof ApiError && complete.error.code === "invalid_reset_token";

  if (complete.isSuccess) {
    const signIn = complete.data.kind === "staff" ? "/console" : "/";
    return (
      <section
        ref={doneRef}
        tabIndex={-1}
        className="sign-in card"
        aria-labelledby={`${id}-done`}
        data-testid="reset-done"
      >
        <h1 id={`${id}-done`}>{t("auth.resetPassword.doneTitle")}</h1>
        <p>{t("auth.resetPassword.done")}</p>
        <Link to={signIn} className="button button--primary button--block" data-testid="reset-sign-in">
          {t("auth.resetPassword.signIn")}
        </Link>
      </section>
    );
  }

  if (token === "") {
    return (
      <section className="sign-in card" aria-labelledby={`${id}-title`} data-testid="reset-missing-token">
        <h1 id={`${id}-title`}>{t("auth.resetPassword.title")}</h1>
        <div className="notice notice--warning" role="alert">
          <p>{t("auth.resetPassword.missing")}</p>
        </div>
        <div className="sign-in__links">
          <Link to="/forgot-password">{t("auth.resetPassword.requestNew")}</Link>
        </div>
      </section>
    );
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (complete.isPending) return;
    const found = passwordProblems(t, next, repeat);
    setProblems(found);
    complete.reset();
    if (Object.keys(found).length > 0) return;
    complete.mutate({ token, new_password: next });
  }

  return (
    <section className="sign-in card" aria-labelledby={`${id}-title`} data-testid="reset-password">
      <h1 id={`${id}-title`}>{t("auth.resetPassword.title")}</h1>
      <p className="muted">{t("auth.resetPassword.intro")}</p>
      <form className="form" onSubmit={submit} noValidate data-testid="reset-password-form">
        <NewPasswordFields
          id={id}
          labels={{ password: t("auth.resetPassword.new"), repeat: t("auth.resetPassword.repeat") }}
          password={next}
          repeat={repeat}
          show={show}
          problems={problems}
          onPassword={(value) => {
            setNext(value);
            setProblems((p) => ({ ...p, password: undefined }));
          }}
          onRepeat={(value) => {
            setRepeat(value);
            setProblems((p) => ({ ...p, repeat: undefined }));
          }}
          onShow={setShow}
          testIds={{ password: "reset-new", repeat: "reset-repeat" }}
        />
        {complete.isError && <ErrorNotice error={complete.error} />}
        {tokenDead && (
          <Link to="/forgot-password" data-testid="reset-request-new">
            {t("auth.resetPassword.requestNew")}
          </Link>
        )}
        <button
          type="submit"
          className="button button--primary button--block"
          disabled={complete.isPending || tokenDead}
          data-testid="reset-submit"
        >
          {complete.isPending ? t("auth.resetPassword.submitting") : t("auth.resetPassword.submit")}
        </button>
      </form>
    </section>
  );
}
