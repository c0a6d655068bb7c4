import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { TwoFactorEnrollment } from "../../api/types";
import { useFormat } from "../i18n/format";
import { useBranding } from "../site/site";
import { Badge } from "../ui/Badge";
import { ErrorNotice } from "../ui/ErrorNotice";
import { Loading } from "../ui/Loading";
import {
  cleanCode,
  groupSecret,
  recoveryCodesFile,
  useConfirmTwoFactor,
  useDisableTwoFactor,
  useRegenerateRecoveryCodes,
  useStartTwoFactor,
  useTwoFactorStatus,
  type SecurityAudience,
} from "./twoFactor";
import "./security.css";
import { CopyButton } from "../ui/CopyButton";

/** What the card is doing besides showing the status. */
type Step =
  | { kind: "idle"; notice?: "enabled" | "disabled" }
  | { kind: "password" }
  | { kind: "setup"; enrollment: TwoFactorEnrollment }
  | { kind: "codes"; codes: string[]; fresh: boolean }
  | { kind: "disable" }
  | { kind: "regenerate" };

/**
 * Two-factor authentication of the signed-in subscriber or staff member: turn on (password,
 * QR code, first code, recovery codes shown once with copy and download), new recovery codes,
 * turn off (password).
 */
export function TwoFactorCard({ audience }: { audience: SecurityAudience }) {
  const { t } = useTranslation();
  const format = useFormat();
  const id = useId();
  const status = useTwoFactorStatus(audience);
  const [step, setStep] = useState<Step>({ kind: "idle" });
  const enabled = status.data?.enabled ?? false;
  const left = status.data?.recovery_codes_left ?? 0;

  return (
    <section className="card profile-card two-factor" aria-labelledby={`${id}-title`} data-testid="two-factor-card">
      <div className="two-factor__head">
        <h2 id={`${id}-title`}>{t("security.twoFactor.title")}</h2>
        {status.data && (
          <Badge tone={enabled ? "success" : "neutral"} testId="two-factor-state">
            {enabled ? t("security.twoFactor.on") : t("security.twoFactor.off")}
          </Badge>
        )}
      </div>
      {status.isPending && <Loading />}
      {status.isError && (
        <ErrorNotice
          error={status.error}
          onRetry={() => {
            void status.refetch();
          }}
        />
      )}
      {status.data && step.kind === "idle" && (
        <>
          {step.notice && (
            <div className="notice notice--success" role="status" data-testid={`two-factor-${step.notice}`}>
              <p>{step.notice === "enabled" ? t("security.twoFactor.enabled") : t("security.twoFactor.disabled")}</p>
            </div>
          )}
          {enabled ? (
            <>
              <p>
                {t("security.twoFactor.onText", {
                  date: status.data.enabled_at ? format.date(status.data.enabled_at) : "",
                })}
              </p>
              <p className={left <= 3 ? "two-factor__low" : "muted"} data-testid="two-factor-codes-left" data-count={left}>
                {left <= 3
                  ? t("security.twoFactor.codesLow", { count: left })
                  : t("security.twoFactor.codesLeft", { count: left })}
              </p>
              <div className="two-factor__actions">
                <button
                  type="button"
                  className="button"
                  onClick={() => {
                    setStep({ kind: "regenerate" });
                  }}
                  data-testid="two-factor-regenerate"
                >
                  {t("security.twoFactor.regenerate")}
                </button>
                <button
                  type="button"
                  className="button two-factor__danger-ghost"
                  onClick={() => {
                    setStep({ kind: "disable" });
                  }}
                  data-testid="two-factor-disable"
                >
                  {t("security.twoFactor.disable")}
                </button>
              </div>
            </>
          ) : (
            <>
              <p className="muted">{t("security.twoFactor.offText")}</p>
              <div className="two-factor__actions">
                <button
                  type="button"
                  className="button button--primary"
                  onClick={() => {
                    setStep({ kind: "password" });
                  }}
                  data-testid="two-factor-enable"
                >
                  {t("security.twoFactor.enable")}
                </button>
              </div>
            </>
          )}
        </>
      )}
      {step.kind === "password" && (
        <StartStep
          audience={audience}
          onCancel={() => {
            setStep({ kind: "idle" });
          }}
          onStarted={(enrollment) => {
            setStep({ kind: "setup", enrollment });
          }}
        />
      )}
      {step.kind === "setup" && (
        <SetupStep
          audience={audience}
          enrollment={step.enrollment}
          onCancel={() => {
            setStep({ kind: "idle" });
          }}
          onEnabled={(codes) => {
            setStep({ kind: "codes", codes, fresh: true });
          }}
        />
      )}
      {step.kind === "codes" && (
        <CodesStep
          codes={step.codes}
          fresh={step.fresh}
          onDone={() => {
            setStep({ kind: "idle", notice: step.fresh ? "enabled" : undefined });
          }}
        />
      )}
      {step.kind === "disable" && (
        <DisableStep
          audience={audience}
          onCancel={() => {
            setStep({ kind: "idle" });
          }}
          onDisabled={() => {
            setStep({ kind: "idle", notice: "disabled" });
          }}
        />
      )}
      {step.kind === "regenerate" && (
        <RegenerateStep
          audience={audience}
          onCancel={() => {
            setStep({ kind: "idle" });
          }}
          onIssued={(codes) => {
            setStep({ kind: "codes", codes, fresh: false });
          }}
        />
      )}
    </section>
  );
}

/** A box that takes focus when it appears (a step shown in place). */
function StepBox({ title, testId, children }: { title: string; testId: string; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const id = useId();
  useEffect(() => {
    ref.current?.scrollIntoView({ block: "nearest" });
    ref.current?.focus();
  }, []);
  return (
    <div ref={ref} tabIndex={-1} className="confirm-box" role="group" aria-labelledby={id} data-testid={testId}>
      <h3 id={id}>{title}</h3>
      {children}
    </div>
  );
}

function PasswordInput({
  value,
  onChange,
  problem,
  testId,
}: {
  value: string;
  onChange: (value: string) => void;
  problem?: string;
  testId: string;
}) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {t("security.twoFactor.password")}
      </label>
      <input
        id={id}
        type="password"
        autoComplete="current-password"
        value={value}
        aria-invalid={problem ? true : undefined}
        aria-describedby={`${id}-note`}
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
        <p className="field__hint" id={`${id}-note`}>
          {t("security.twoFactor.passwordHint")}
        </p>
      )}
    </div>
  );
}

function CodeInput({
  value,
  onChange,
  problem,
  testId,
}: {
  value: string;
  onChange: (value: string) => void;
  problem?: string;
  testId: string;
}) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {t("security.twoFactor.code")}
      </label>
      <input
        id={id}
        className="code-input two-factor__code"
        type="text"
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={7}
        placeholder="······"
        value={value}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-note` : undefined}
        onChange={(e) => {
          onChange(e.target.value);
        }}
        data-testid={testId}
      />
      {problem && (
        <p className="field__error" id={`${id}-note`}>
          {problem}
        </p>
      )}
    </div>
  );
}

function Actions({
  pending,
  submitLabel,
  pendingLabel,
  danger,
  onCancel,
  testId,
}: {
  pending: boolean;
  submitLabel: string;
  pendingLabel: string;
  danger?: boolean;
  onCancel: () => void;
  testId: string;
}) {
  const { t } = useTranslation();
  return (
    <div className="confirm-box__actions">
      <button type="button" className="button button--ghost" disabled={pending} onClick={onCancel}>
        {t("security.twoFactor.cancel")}
      </button>
      <button
        type="submit"
        className={danger ? "button two-factor__danger" : "button button--primary"}
        disabled={pending}
        data-testid={testId}
      >
        {pending ? pendingLabel : submitLabel}
      </button>
    </div>
  );
}

function StartStep({
  audience,
  onCancel,
  onStarted,
}: {
  audience: SecurityAudience;
  onCancel: () => void;
  onStarted: (enrollment: TwoFactorEnrollment) => void;
}) {
  const { t } = useTranslation();
  const start = useStartTwoFactor(audience);
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string>();

  function submit(event: FormEvent) {
    event.preventDefault();
    if (start.isPending) return;
    if (password === "") {
      setProblem(t("security.twoFactor.passwordEmpty"));
      return;
    }
    start.mutate({ password }, { onSuccess: onStarted });
  }

  return (
    <StepBox title={t("security.twoFactor.enable")} testId="two-factor-start">
      <form className="form" onSubmit={submit} noValidate>
        <PasswordInput
          value={password}
          onChange={(v) => {
            setPassword(v);
            setProblem(undefined);
          }}
          problem={problem}
          testId="two-factor-password"
        />
        {start.isError && <ErrorNotice error={start.error} />}
        <Actions
          pending={start.isPending}
          submitLabel={t("security.twoFactor.continue")}
          pendingLabel={t("security.twoFactor.starting")}
          onCancel={onCancel}
          testId="two-factor-start-submit"
        />
      </form>
    </StepBox>
  );
}


function SetupStep({
  audience,
  enrollment,
  onCancel,
  onEnabled,
}: {
  audience: SecurityAudience;
  enrollment: TwoFactorEnrollment;
  onCancel: () => void;
  onEnabled: (codes: string[]) => void;
}) {
  const { t } = useTranslation();
  const confirm = useConfirmTwoFactor(audience);
  const [code, setCode] = useState("");
  const [problem, setProblem] = useState<string>();
  const qr = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrollment.qr_svg)}`;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (confirm.isPending) return;
    if (!/^\d{6}$/.test(cleanCode(code))) {
      setProblem(t("auth.secondFactor.codeFormat"));
      return;
    }
    confirm.mutate(
      { code: cleanCode(code) },
      {
        onSuccess: (issued) => {
          onEnabled(issued.codes);
        },
      },
    );
  }

  return (
    <StepBox title={t("security.twoFactor.scanTitle")} testId="two-factor-setup">
      <p>{t("security.twoFactor.scan")}</p>
      <div className="two-factor__qr">
        <img src={qr} width={200} height={200} alt={t("security.twoFactor.qrAlt")} data-testid="two-factor-qr" />
        <div className="two-factor__manual">
          <p className="muted">{t("security.twoFactor.manual")}</p>
          <code className="two-factor__secret" data-testid="two-factor-secret" data-secret={enrollment.secret}>
            {groupSecret(enrollment.secret)}
          </code>
          <CopyButton text={enrollment.secret} testId="two-factor-copy-secret" />
        </div>
      </div>
      <h3>{t("security.twoFactor.confirmTitle")}</h3>
      <form className="form" onSubmit={submit} noValidate>
        <CodeInput
          value={code}
          onChange={(v) => {
            setCode(v);
            setProblem(undefined);
          }}
          problem={problem}
          testId="two-factor-code"
        />
        {confirm.isError && <ErrorNotice error={confirm.error} />}
        <Actions
          pending={confirm.isPending}
          submitLabel={t("security.twoFactor.confirm")}
          pendingLabel={t("security.twoFactor.confirming")}
          onCancel={onCancel}
          testId="two-factor-confirm"
        />
      </form>
    </StepBox>
  );
}

function CodesStep({ codes, fresh, onDone }: { codes: string[]; fresh: boolean; onDone: () => void }) {
  const { t } = useTranslation();
  const branding = useBranding();
  const download = () => {
    const name = branding?.name ?? "Kabinet";
    const file = recoveryCodesFile(
      t("security.twoFactor.fileTitle", { name }),
      t("security.twoFactor.fileNote"),
      codes,
    );
    const url = URL.createObjectURL(file);
    const link = document.createElement("a");
    link.href = url;
    link.download = `${(branding?.slug ?? "kabinet").replace(/[^a-z0-9-]/g, "")}-recovery-codes.txt`;
    link.click();
    setTimeout(() => {
      URL.revokeObjectURL(url);
    }, 0);
  };
  return (
    <StepBox title={t("security.twoFactor.codesTitle")} testId="two-factor-codes">
      {fresh && (
        <div className="notice notice--success" role="status">
          <p>{t("security.twoFactor.enabled")}</p>
        </div>
      )}
      <p>{t("security.twoFactor.codesIntro")}</p>
      <ol className="two-factor__codes" data-testid="recovery-codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <div className="two-factor__actions">
        <CopyButton text={codes.join("\n")} testId="recovery-codes-copy" />
        <button type="button" className="button button--small" onClick={download} data-testid="recovery-codes-download">
          {t("security.twoFactor.download")}
        </button>
      </div>
      <div className="confirm-box__actions">
        <button type="button" className="button button--primary" onClick={onDone} data-testid="recovery-codes-saved">
          {t("security.twoFactor.saved")}
        </button>
      </div>
    </StepBox>
  );
}

function DisableStep({
  audience,
  onCancel,
  onDisabled,
}: {
  audience: SecurityAudience;
  onCancel: () => void;
  onDisabled: () => void;
}) {
  const { t } = useTranslation();
  const disable = useDisableTwoFactor(audience);
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string>();

  function submit(event: FormEvent) {
    event.preventDefault();
    if (disable.isPending) return;
    if (password === "") {
      setProblem(t("security.twoFactor.passwordEmpty"));
      return;
    }
    disable.mutate({ password }, { onSuccess: onDisabled });
  }

  return (
    <StepBox title={t("security.twoFactor.disableTitle")} testId="two-factor-disable-confirm">
      <p>{t("security.twoFactor.disableText")}</p>
      <form className="form" onSubmit={submit} noValidate>
        <PasswordInput
          value={password}
          onChange={(v) => {
            setPassword(v);
            setProblem(undefined);
          }}
          problem={problem}
          testId="two-factor-disable-password"
        />
        {disable.isError && <ErrorNotice error={disable.error} />}
        <Actions
          pending={disable.isPending}
          submitLabel={t("security.twoFactor.disableConfirm")}
          pendingLabel={t("security.twoFactor.disabling")}
          danger
          onCancel={onCancel}
          testId="two-factor-disable-submit"
        />
      </form>
    </StepBox>
  );
}

function RegenerateStep({
  audience,
  onCancel,
  onIssued,
}: {
  audience: SecurityAudience;
  onCancel: () => void;
  onIssued: (codes: string[]) => void;
}) {
  const { t } = useTranslation();
  const regenerate = useRegenerateRecoveryCodes(audience);
  const [code, setCode] = useState("");
  const [problem, setProblem] = useState<string>();

  function submit(event: FormEvent) {
    event.preventDefault();
    if (regenerate.isPending) return;
    if (!/^\d{6}$/.test(cleanCode(code))) {
      setProblem(t("auth.secondFactor.codeFormat"));
      return;
    }
    regenerate.mutate(
      { code: cleanCode(code) },
      {
        onSuccess: (issued) => {
          onIssued(issued.codes);
        },
      },
    );
  }

  return (
    <StepBox title={t("security.twoFactor.regenerateTitle")} testId="two-factor-regenerate-confirm">
      <p>{t("security.twoFactor.regenerateText")}</p>
      <form className="form" onSubmit={submit} noValidate>
        <CodeInput
          value={code}
          onChange={(v) => {
            setCode(v);
            setProblem(undefined);
          }}
          problem={problem}
          testId="two-factor-regenerate-code"
        />
        {regenerate.isError && <ErrorNotice error={regenerate.error} />}
        <Actions
          pending={regenerate.isPending}
          submitLabel={t("security.twoFactor.regenerateConfirm")}
          pendingLabel={t("security.twoFactor.regenerating")}
          onCancel={onCancel}
          testId="two-factor-regenerate-submit"
        />
      </form>
    </StepBox>
  );
}
