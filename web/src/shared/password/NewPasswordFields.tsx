import { useTranslation } from "react-i18next";
import type { PasswordProblems } from "./password";

/** One labelled input with its problem (or hint) beneath, wired for screen readers. */
export function FormField({
  id,
  label,
  value,
  onChange,
  problem,
  hint,
  type = "text",
  autoComplete,
  maxLength,
  testId,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  problem?: string;
  hint?: string;
  type?: "text" | "password";
  autoComplete?: string;
  maxLength?: number;
  testId: string;
}) {
  const note = problem ?? hint;
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        type={type}
        autoComplete={autoComplete}
        value={value}
        maxLength={maxLength}
        aria-invalid={problem ? true : undefined}
        aria-describedby={note ? `${id}-note` : undefined}
        onChange={(e) => {
          onChange(e.target.value);
        }}
        data-testid={testId}
      />
      {problem ? (
        <p className="field__error" id={`${id}-note`}>
          {problem}
        </p>
      ) : (
        hint && (
          <p className="field__hint" id={`${id}-note`}>
            {hint}
          </p>
        )
      )}
    </div>
  );
}

/**
 * A new password twice with a "show" switch: the reset link's page and the invitation's. The
 * caller keeps the values and the problems (checked with {@link passwordProblems} on submit).
 */
export function NewPasswordFields({
  id,
  labels,
  password,
  repeat,
  show,
  problems,
  onPassword,
  onRepeat,
  onShow,
  testIds,
}: {
  id: string;
  labels: { password: string; repeat: string };
  password: string;
  repeat: string;
  show: boolean;
  problems: PasswordProblems;
  onPassword: (value: string) => void;
  onRepeat: (value: string) => void;
  onShow: (show: boolean) => void;
  testIds: { password: string; repeat: string };
}) {
  const { t } = useTranslation();
  const type = show ? "text" : "password";
  return (
    <>
      <FormField
        id={`${id}-password`}
        label={labels.password}
        value={password}
        onChange={onPassword}
        problem={problems.password}
        hint={t("portal.profile.password.newHint")}
        type={type}
        autoComplete="new-password"
        testId={testIds.password}
      />
      <FormField
        id={`${id}-repeat`}
        label={labels.repeat}
        value={repeat}
        onChange={onRepeat}
        problem={problems.repeat}
        type={type}
        autoComplete="new-password"
        testId={testIds.repeat}
      />
      <label className="checkbox">
        <input
          type="checkbox"
          checked={show}
          onChange={(e) => {
            onShow(e.target.checked);
          }}
        />
        {t("portal.profile.password.show")}
      </label>
    </>
  );
}
