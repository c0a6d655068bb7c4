import { useEffect, useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useLocation, useNavigate } from "react-router";
import { ApiError } from "../../api/client";
import "../../shared/session/sign-in.css";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { FormField, NewPasswordFields } from "../../shared/password/NewPasswordFields";
import { passwordProblems, type PasswordProblems } from "../../shared/password/password";
import { DEAD_LINK_CODES, type DeadLinkCode, useAcceptInvitation, useInvitationPreview } from "./invitations";

type Problems = PasswordProblems & { name?: string };

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
    const found: Problems = passwordProblems(t, password, repeat);
    if (name.trim() === "") found.name = t("staffInvites.accept.nameRequired");
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
        <FormField
          id={`${id}-name`}
          label={t("staffInvites.accept.name")}
          value={name}
          onChange={(value) => {
            setName(value);
            setProblems((p) => ({ ...p, name: undefined }));
          }}
          problem={problems.name}
          autoComplete="name"
          maxLength={200}
          testId="invite-accept-name"
        />
        <NewPasswordFields
          id={id}
          labels={{ password: t("staffInvites.accept.password"), repeat: t("staffInvites.accept.repeat") }}
          password={password}
          repeat={repeat}
          show={show}
          problems={problems}
          onPassword={(value) => {
            setPassword(value);
            setProblems((p) => ({ ...p, password: undefined }));
          }}
          onRepeat={(value) => {
            setRepeat(value);
            setProblems((p) => ({ ...p, repeat: undefined }));
          }}
          onShow={setShow}
          testIds={{ password: "invite-accept-password", repeat: "invite-accept-repeat" }}
        />
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
