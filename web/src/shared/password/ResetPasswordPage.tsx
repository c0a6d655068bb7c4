import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate } from "react-router";
import { ApiError } from "../../api/client";
import "../session/sign-in.css";
import { usePageTitle } from "../site/site";
import { ErrorNotice } from "../ui/ErrorNotice";
import { useCompletePasswordReset } from "./password";

/** The same floor the server applies (10 to 1024 characters). */
const PASSWORD_MIN = 10;
const PASSWORD_MAX = 1024;

type Problems = Partial<Record<"new" | "repeat", string>>;

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
  const [problems, setProblems] = useState<Problems>({});
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

  function check(): Problems {
    const found: Problems = {};
    const length = Array.from(next).length; // code points, as the server counts
    if (length < PASSWORD_MIN) found.new = t("portal.profile.password.problems.tooShort", { min: PASSWORD_MIN });
    else if (length > PASSWORD_MAX) found.new = t("portal.profile.password.problems.tooLong", { max: PASSWORD_MAX });
    else if (repeat !== next) found.repeat = t("portal.profile.password.problems.mismatch");
    return found;
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (complete.isPending) return;
    const found = check();
    setProblems(found);
    complete.reset();
    if (Object.keys(found).length > 0) return;
    complete.mutate({ token, new_password: next });
  }

  const field = (key: keyof Problems, label: string, value: string, set: (v: string) => void, hint?: string) => {
    const problem = problems[key];
    const note = problem ?? hint;
    return (
      <div className="field">
        <label className="field__label" htmlFor={`${id}-${key}`}>
          {label}
        </label>
        <input
          id={`${id}-${key}`}
          type={show ? "text" : "password"}
          autoComplete="new-password"
          value={value}
          aria-invalid={problem ? true : undefined}
          aria-describedby={note ? `${id}-${key}-note` : undefined}
          onChange={(e) => {
            set(e.target.value);
            setProblems((p) => ({ ...p, [key]: undefined }));
          }}
          data-testid={`reset-${key}`}
        />
        {problem ? (
          <p className="field__error" id={`${id}-${key}-note`}>
            {problem}
          </p>
        ) : (
          hint && (
            <p className="field__hint" id={`${id}-${key}-note`}>
              {hint}
            </p>
          )
        )}
      </div>
    );
  };

  return (
    <section className="sign-in card" aria-labelledby={`${id}-title`} data-testid="reset-password">
      <h1 id={`${id}-title`}>{t("auth.resetPassword.title")}</h1>
      <p className="muted">{t("auth.resetPassword.intro")}</p>
      <form className="form" onSubmit={submit} noValidate data-testid="reset-password-form">
        {field("new", t("auth.resetPassword.new"), next, setNext, t("portal.profile.password.newHint"))}
        {field("repeat", t("auth.resetPassword.repeat"), repeat, setRepeat)}
        <label className="checkbox">
          <input
            type="checkbox"
            checked={show}
            onChange={(e) => {
              setShow(e.target.checked);
            }}
          />
          {t("portal.profile.password.show")}
        </label>
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
