import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import type { MySession } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { TwoFactorCard } from "../../shared/security/TwoFactorCard";
import { useSignOutEverywhere } from "../../shared/session/session";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useDashboard } from "../dashboard/dashboard";
import {
  PASSWORD_MAX,
  PASSWORD_MIN,
  summarizeUserAgent,
  useChangePassword,
  useEndSession,
  useMySessions,
} from "./profile";
import "./profile.css";

/** Contact details, password change, two-factor authentication and the signed-in devices. */
export function ProfilePage() {
  const { t } = useTranslation();
  usePageTitle(t("portal.profile.title"));
  return (
    <div className="stack" data-testid="profile-page">
      <header className="page-header">
        <h1>{t("portal.profile.title")}</h1>
      </header>
      <div className="profile-grid">
        <div className="profile-column">
          <ContactsSection />
          <PasswordSection />
        </div>
        <div className="profile-column">
          <TwoFactorCard audience="subscriber" />
          <SessionsSection />
        </div>
      </div>
    </div>
  );
}

function ContactsSection() {
  const { t } = useTranslation();
  const id = useId();
  const dashboard = useDashboard();
  const subscriber = dashboard.data?.subscriber;
  const value = (text: string | undefined) =>
    text ? <dd>{text}</dd> : <dd className="muted">{t("portal.profile.notGiven")}</dd>;

  return (
    <section className="card profile-card" aria-labelledby={`${id}-title`} data-testid="profile-contacts">
      <h2 id={`${id}-title`}>{t("portal.profile.contacts")}</h2>
      {dashboard.isPending && <Loading />}
      {dashboard.isError && (
        <ErrorNotice
          error={dashboard.error}
          onRetry={() => {
            void dashboard.refetch();
          }}
        />
      )}
      {subscriber && (
        <>
          <dl className="profile-facts">
            <div>
              <dt>{t("portal.profile.accountNumber")}</dt>
              <dd data-testid="profile-account-number">{subscriber.account_number}</dd>
            </div>
            <div>
              <dt>{t("portal.profile.name")}</dt>
              <dd>{subscriber.full_name}</dd>
            </div>
            <div>
              <dt>{t("portal.profile.email")}</dt>
              {value(subscriber.email)}
            </div>
            <div>
              <dt>{t("portal.profile.phone")}</dt>
              {value(subscriber.phone)}
            </div>
          </dl>
          <p className="muted">{t("portal.profile.contactsHint")}</p>
        </>
      )}
    </section>
  );
}

type PasswordProblems = Partial<Record<"current" | "new" | "repeat", string>>;

function PasswordSection() {
  const { t } = useTranslation();
  const id = useId();
  const change = useChangePassword();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [show, setShow] = useState(false);
  const [problems, setProblems] = useState<PasswordProblems>({});

  function check(): PasswordProblems {
    const found: PasswordProblems = {};
    if (current === "") found.current = t("portal.profile.password.problems.currentEmpty");
    const length = Array.from(next).length; // code points, as the server counts
    if (length < PASSWORD_MIN) found.new = t("portal.profile.password.problems.tooShort", { min: PASSWORD_MIN });
    else if (length > PASSWORD_MAX) found.new = t("portal.profile.password.problems.tooLong", { max: PASSWORD_MAX });
    else if (next === current) found.new = t("portal.profile.password.problems.sameAsCurrent");
    if (found.new === undefined && repeat !== next) found.repeat = t("portal.profile.password.problems.mismatch");
    return found;
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (change.isPending) return;
    const found = check();
    setProblems(found);
    change.reset();
    if (Object.keys(found).length > 0) return;
    change.mutate(
      { current_password: current, new_password: next },
      {
        onSuccess: () => {
          setCurrent("");
          setNext("");
          setRepeat("");
        },
      },
    );
  }

  const field = (
    key: keyof PasswordProblems,
    label: string,
    value: string,
    set: (v: string) => void,
    autoComplete: string,
    hint?: string,
  ) => {
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
          autoComplete={autoComplete}
          value={value}
          aria-invalid={problem ? true : undefined}
          aria-describedby={note ? `${id}-${key}-note` : undefined}
          onChange={(e) => {
            set(e.target.value);
            setProblems((p) => ({ ...p, [key]: undefined }));
          }}
          data-testid={`password-${key}`}
        />
        {problem ? (
          <p className="field__error" id={`${id}-${key}-note`} data-testid={`password-${key}-error`}>
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
    <section className="card profile-card" aria-labelledby={`${id}-title`} data-testid="password-section">
      <h2 id={`${id}-title`}>{t("portal.profile.password.title")}</h2>
      <p className="muted">{t("portal.profile.password.intro")}</p>
      {change.isSuccess && (
        <div className="notice notice--success" role="status" data-testid="password-changed">
          <p className="notice__headline">{t("portal.profile.password.changed")}</p>
          <p data-testid="password-sessions-ended" data-count={change.data.sessions_ended}>
            {change.data.sessions_ended > 0
              ? t("portal.profile.password.othersEnded", { count: change.data.sessions_ended })
              : t("portal.profile.password.noOthers")}
          </p>
        </div>
      )}
      <form className="form" onSubmit={submit} noValidate data-testid="password-form">
        {field("current", t("portal.profile.password.current"), current, setCurrent, "current-password")}
        {field(
          "new",
          t("portal.profile.password.new"),
          next,
          setNext,
          "new-password",
          t("portal.profile.password.newHint"),
        )}
        {field("repeat", t("portal.profile.password.repeat"), repeat, setRepeat, "new-password")}
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
        {change.isError && <ErrorNotice error={change.error} />}
        <div className="form__actions">
          <button
            type="submit"
            className="button button--primary button--block"
            disabled={change.isPending}
            data-testid="password-submit"
          >
            {change.isPending ? t("portal.profile.password.submitting") : t("portal.profile.password.submit")}
          </button>
        </div>
      </form>
    </section>
  );
}

function SessionsSection() {
  const { t } = useTranslation();
  const id = useId();
  const sessions = useMySessions();
  const everywhere = useSignOutEverywhere();
  const [confirming, setConfirming] = useState(false);
  const confirmRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!confirming) return;
    confirmRef.current?.scrollIntoView({ block: "nearest" });
    confirmRef.current?.focus();
  }, [confirming]);

  // This device first, then the most recently active.
  const items = [...(sessions.data?.items ?? [])].sort(
    (a, b) => Number(b.current) - Number(a.current) || b.last_seen_at.localeCompare(a.last_seen_at),
  );

  return (
    <section className="card profile-card" aria-labelledby={`${id}-title`} data-testid="sessions-section">
      <h2 id={`${id}-title`}>{t("portal.profile.sessions.title")}</h2>
      <p className="muted">{t("portal.profile.sessions.intro")}</p>
      {sessions.isPending && <Loading />}
      {sessions.isError && (
        <ErrorNotice
          error={sessions.error}
          onRetry={() => {
            void sessions.refetch();
          }}
        />
      )}
      {sessions.data && (
        <ul className="session-list" data-testid="session-list">
          {items.map((session) => (
            <SessionRow key={session.id} session={session} />
          ))}
        </ul>
      )}
      {sessions.data && items.every((s) => s.current) && (
        <p className="muted" data-testid="sessions-no-others">
          {t("portal.profile.sessions.empty")}
        </p>
      )}
      {confirming ? (
        <div
          ref={confirmRef}
          tabIndex={-1}
          className="confirm-box"
          role="group"
          aria-labelledby={`${id}-confirm`}
          data-testid="sign-out-everywhere-confirm"
        >
          <h3 id={`${id}-confirm`}>{t("portal.profile.sessions.everywhereTitle")}</h3>
          <p>{t("portal.profile.sessions.everywhereText")}</p>
          {everywhere.isError && <ErrorNotice error={everywhere.error} />}
          <div className="confirm-box__actions">
            <button
              type="button"
              className="button button--ghost"
              disabled={everywhere.isPending}
              onClick={() => {
                everywhere.reset();
                setConfirming(false);
              }}
            >
              {t("portal.profile.sessions.cancel")}
            </button>
            <button
              type="button"
              className="button button--danger"
              disabled={everywhere.isPending}
              onClick={() => {
                everywhere.mutate();
              }}
              data-testid="sign-out-everywhere-submit"
            >
              {everywhere.isPending
                ? t("portal.profile.sessions.everywhereConfirming")
                : t("portal.profile.sessions.everywhereConfirm")}
            </button>
          </div>
        </div>
      ) : (
        <div className="form__actions">
          <button
            type="button"
            className="button button--block"
            onClick={() => {
              setConfirming(true);
            }}
            data-testid="sign-out-everywhere"
          >
            {t("portal.profile.sessions.everywhere")}
          </button>
        </div>
      )}
    </section>
  );
}

function SessionRow({ session }: { session: MySession }) {
  const { t } = useTranslation();
  const format = useFormat();
  const end = useEndSession();
  const { browser, os } = summarizeUserAgent(session.user_agent);
  const device =
    browser && os
      ? t("portal.profile.sessions.device", { browser, os })
      : (browser ?? os ?? t("portal.profile.sessions.unknownDevice"));

  return (
    <li
      className={session.current ? "session session--current" : "session"}
      data-testid="session-row"
      data-current={session.current}
      data-session-id={session.id}
    >
      <div className="session__main">
        <p className="session__device" title={session.user_agent}>
          <span>{device}</span>
          {session.current && (
            <Badge tone="success" testId="session-this-device">
              {t("portal.profile.sessions.thisDevice")}
            </Badge>
          )}
        </p>
        <dl className="session__facts">
          {session.client_addr && (
            <div>
              <dt>{t("portal.profile.sessions.address")}</dt>
              <dd>{session.client_addr}</dd>
            </div>
          )}
          <div>
            <dt>{t("portal.profile.sessions.lastActive")}</dt>
            <dd title={format.dateTime(session.last_seen_at)}>
              {format.ago(session.last_seen_at) ?? t("portal.profile.sessions.justNow")}
            </dd>
          </div>
          <div>
            <dt>{t("portal.profile.sessions.signedIn")}</dt>
            <dd>{format.dateTime(session.created_at)}</dd>
          </div>
        </dl>
        {end.isError && <ErrorNotice error={end.error} />}
      </div>
      {!session.current && (
        <button
          type="button"
          className="button button--ghost button--small session__end"
          disabled={end.isPending}
          onClick={() => {
            end.mutate(session.id);
          }}
          data-testid="session-sign-out"
        >
          {end.isPending ? t("portal.profile.sessions.signingOut") : t("portal.profile.sessions.signOut")}
        </button>
      )}
    </li>
  );
}
