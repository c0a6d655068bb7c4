import { useState, type FormEvent, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ErrorNotice } from "../ui/ErrorNotice";
import { Field } from "../ui/Field";
import "./sign-in.css";

/** The sign-in card shared by subscribers (login), staff and operators (e-mail). */
export function CredentialsForm({
  title,
  intro,
  identifierLabel,
  identifierHint,
  identifierType,
  pending,
  error,
  notice,
  footer,
  onSubmit,
}: {
  title: string;
  intro?: string;
  /** Shown above the form, e.g. why the visitor is back at the password step. */
  notice?: string;
  /** Under the form: "Forgot your password?". */
  footer?: ReactNode;
  identifierLabel: string;
  identifierHint?: string;
  identifierType: "text" | "email";
  pending: boolean;
  error: unknown;
  onSubmit: (identifier: string, password: string) => void;
}) {
  const { t } = useTranslation();
  const [identifier, setIdentifier] = useState("");
  const [password, setPassword] = useState("");

  function submit(event: FormEvent) {
    event.preventDefault();
    onSubmit(identifier.trim(), password);
  }

  return (
    <section className="sign-in card" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{title}</h1>
      {intro && <p className="muted">{intro}</p>}
      {notice && (
        <div className="notice notice--warning" role="status" data-testid="login-notice">
          <p>{notice}</p>
        </div>
      )}
      <form className="form" onSubmit={submit} data-testid="login-form">
        <Field label={identifierLabel} hint={identifierHint}>
          {(control) => (
            <input
              {...control}
              name="username"
              type={identifierType}
              autoComplete="username"
              inputMode={identifierType === "email" ? "email" : "text"}
              autoCapitalize="none"
              spellCheck={false}
              required
              value={identifier}
              onChange={(e) => {
                setIdentifier(e.target.value);
              }}
              data-testid="login-identifier"
            />
          )}
        </Field>
        <Field label={t("auth.password")}>
          {(control) => (
            <input
              {...control}
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => {
                setPassword(e.target.value);
              }}
              data-testid="login-password"
            />
          )}
        </Field>
        {error != null && <ErrorNotice error={error} />}
        <button type="submit" className="button button--primary button--block" disabled={pending} data-testid="login-submit">
          {pending ? t("auth.submitting") : t("auth.submit")}
        </button>
      </form>
      {footer && <div className="sign-in__links">{footer}</div>}
    </section>
  );
}
