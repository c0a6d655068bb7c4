import { useEffect, useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useLocation, useNavigate } from "react-router";
import { ApiError } from "../../api/client";
import "../../shared/session/sign-in.css";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { DEAD_LINK_CODES, type DeadLinkCode, useAcceptInvitation, useInvitationPreview } from "./invitations";

/** The same floor the server applies (10 to 1024 characters). */
const PASSWORD_MIN = 10;
const PASSWORD_MAX = 1024;

type Problems = Partial<Record<"name" | "password" | "repeat", string>>;

function deadLink(error: unknown): DeadLinkCode | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return DEAD_LINK_CODES.find((c) => c === error.code);
}

/**
 * `/console/invite?token=…`, the link from the invitation letter, signed out: the ISP and the
 * role, then a name and a password; the invitee lands in the console signed in. The token leaves
 * the address bar at once and is kept in memory only.
 */
export function AcceptInvitePage() {
  const { t } = useTranslation();
  usePageTitle(t("staffInvites.accept.title"));
  const id = useId();
  const location = useLocation();
  const navigate = useNavigate();
  const [token] = useState(() => new URLSearchParams(location.search).get("token") ?? "");
  const preview = useInvitationPreview(token);
  const accept = useAcceptInvitation();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [show, setShow] = useState(false);
  const [problems, setProblems] = useState<Problems>({});

  useEffect(() => {
    if (location.search.includes("token=")) void navigate(location.pathname, { replace: true });
  }, [location.pathname, location.search, navigate]);

  if (accept.isSuccess) return <Navigate to="/console" replace />;

  const dead = token === "" ? "invitation_invalid" : (deadLink(preview.error) ?? deadLink(accept.error));
  if (dead) {
    return (
      <section className="sign-in card" aria-labelledby={`${id}-title`} data-testid="invite-dead" data-code={dead}>
        <h1 id={`${id}-title`}>{t("staffInvites.accept.title")}</h1>
        <div className="notice notice--warning" role="alert">
          <p className="notice__headline">{t(`staffInvites.accept.dead.${dead}`)}</p>
          {dead !== "invitation_accepted" && <p>{t("staffInvites.accept.askAgain")}</p>}
        </div>
        <div className="sign-in__links">
          <Link to="/console">{t("staffInvites.accept.toSignIn")}</Link>
        </div>
      </section>
    );
  }
  if (preview.isPending) return <Loading />;
  if (preview.isError) return <ErrorNotice error={preview.error} />;
  const invitation = preview.data;
  const roleName = invitation.role.built_in
    ? t(`staffAdmin.roles.${invitation.role.built_in}`)
    : (invitation.role.custom_name ?? "");

  function check(): Problems {
    const found: Problems = {};
    if (name.trim() === "") found.name = t("staffInvites.accept.nameRequired");
    const length = Array.from(password).length; // code points, as the server counts
    if (length < PASSWORD_MIN) found.password = t("portal.profile.password.problems.tooShort", { min: PASSWORD_MIN });
    else if (length > PASSWORD_MAX)
      found.password = t("portal.profile.password.problems.tooLong", { max: PASSWORD_MAX });
    else if (repeat !== password) found.repeat = t("portal.profile.password.problems.mismatch");
    return found;
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (accept.isPending) return;
    const found = check();
    setProblems(found);
    accept.reset();
    if (Object.keys(found).length > 0) return;
    accept.mutate({ token, display_name: name.trim(), password });
  }

  const field = (
    key: keyof Problems,
    label: string,
    value: string,
    set: (v: string) => void,
    kind: "name" | "password",
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
          type={kind === "name" || show ? "text" : "password"}
          autoComplete={kind === "name" ? "name" : "new-password"}
          value={value}
          maxLength={kind === "name" ? 200 : undefined}
          aria-invalid={problem ? true : undefined}
          aria-describedby={note ? `${id}-${key}-note` : undefined}
          onChange={(e) => {
            set(e.target.value);
            setProblems((p) => ({ ...p, [key]: undefined }));
          }}
          data-testid={`invite-accept-${key}`}
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
    <section className="sign-in card" aria-labelledby={`${id}-title`} data-testid="invite-accept">
      <h1 id={`${id}-title`}>{t("staffInvites.accept.heading", { isp: invitation.isp_name })}</h1>
      <p data-testid="invite-accept-role">
        {t("staffInvites.accept.intro", { name: invitation.invited_by, role: roleName })}
      </p>
      <p className="muted">
        {t("staffInvites.accept.account")} <strong>{invitation.email}</strong>
      </p>
      <form className="form" onSubmit={submit} noValidate data-testid="invite-accept-form">
        {field("name", t("staffInvites.accept.name"), name, setName, "name")}
        {field(
          "password",
          t("staffInvites.accept.password"),
          password,
          setPassword,
          "password",
          t("portal.profile.password.newHint"),
        )}
        {field("repeat", t("staffInvites.accept.repeat"), repeat, setRepeat, "password")}
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
        {accept.isError && <ErrorNotice error={accept.error} />}
        <button
          type="submit"
          className="button button--primary button--block"
          disabled={accept.isPending}
          data-testid="invite-accept-submit"
        >
          {t("staffInvites.accept.submit")}
        </button>
      </form>
    </section>
  );
}
