import { useEffect, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import type { SecondFactorChallenge } from "../../api/types";
import { ErrorNotice } from "../ui/ErrorNotice";
import { Field } from "../ui/Field";
import { useSecondFactor } from "./session";
import "./sign-in.css";

/**
 * The second step of a sign-in: a 6-digit code from the authenticator app or, with the toggle,
 * a recovery code. A dead challenge (expired, too many wrong codes) sends the visitor back to
 * the password step through `onRestart(true)`.
 */
export function SecondFactorForm({
  challenge,
  onRestart,
}: {
  challenge: SecondFactorChallenge;
  onRestart: (expired: boolean) => void;
}) {
  const { t } = useTranslation();
  const verify = useSecondFactor();
  const [recovery, setRecovery] = useState(false);
  const [code, setCode] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    input.current?.focus();
  }, [recovery]);

  const error = verify.error;
  useEffect(() => {
    if (error instanceof ApiError && error.code === "login_challenge_expired") onRestart(true);
  }, [error, onRestart]);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (verify.isPending) return;
    const typed = code.trim();
    if (!recovery && !/^\d{6}$/.test(typed.replace(/\s/g, ""))) {
      setProblem(t("auth.secondFactor.codeFormat"));
      return;
    }
    setProblem(null);
    verify.mutate(
      { challenge: challenge.challenge, code: typed },
      {
        onError: () => {
          setCode("");
          input.current?.focus();
        },
      },
    );
  }

  return (
    <section className="sign-in card" aria-labelledby="second-factor-title" data-testid="second-factor">
      <h1 id="second-factor-title">{t("auth.secondFactor.title")}</h1>
      <p className="muted">{recovery ? t("auth.secondFactor.introRecovery") : t("auth.secondFactor.intro")}</p>
      <form className="form" onSubmit={submit} noValidate data-testid="second-factor-form">
        <Field label={recovery ? t("auth.secondFactor.recoveryCode") : t("auth.secondFactor.code")}>
          {(control) => (
            <input
              {...control}
              ref={input}
              key={recovery ? "recovery" : "totp"}
              name={recovery ? "recovery-code" : "one-time-code"}
              className={recovery ? "code-input code-input--recovery" : "code-input"}
              type="text"
              inputMode={recovery ? "text" : "numeric"}
              autoComplete={recovery ? "off" : "one-time-code"}
              autoCapitalize={recovery ? "characters" : "none"}
              spellCheck={false}
              maxLength={recovery ? 20 : 7}
              placeholder={recovery ? "XXXX-XXXX-XXXX" : "······"}
              required
              value={code}
              aria-invalid={problem ? true : undefined}
              onChange={(e) => {
                setCode(e.target.value);
                setProblem(null);
              }}
              data-testid="second-factor-code"
            />
          )}
        </Field>
        {problem && (
          <p className="field__error" role="alert" data-testid="second-factor-problem">
            {problem}
          </p>
        )}
        {error != null && !(error instanceof ApiError && error.code === "login_challenge_expired") && (
          <ErrorNotice error={error} />
        )}
        <button
          type="submit"
          className="button button--primary button--block"
          disabled={verify.isPending}
          data-testid="second-factor-submit"
        >
          {verify.isPending ? t("auth.secondFactor.submitting") : t("auth.secondFactor.submit")}
        </button>
      </form>
      <div className="sign-in__links">
        <button
          type="button"
          className="link-button"
          onClick={() => {
            setRecovery((r) => !r);
            setCode("");
            setProblem(null);
            verify.reset();
          }}
          data-testid="second-factor-toggle"
        >
          {recovery ? t("auth.secondFactor.useApp") : t("auth.secondFactor.useRecovery")}
        </button>
        <button
          type="button"
          className="link-button"
          onClick={() => {
            onRestart(false);
          }}
          data-testid="second-factor-restart"
        >
          {t("auth.secondFactor.restart")}
        </button>
      </div>
    </section>
  );
}
