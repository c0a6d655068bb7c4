import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useInvitations, useInvite, useResendInvitation, useRevokeInvitation } from "./invitations";
import type { BuiltInRoleName, RoleChoice } from "./staff";

type RoleOption = { value: string; label: string };

/** Our wording for the codes the invite form can meet; anything else as the server said it. */
const INVITE_CODES = ["already_staff", "staff_deactivated", "beyond_own_permissions", "resend_too_soon"] as const;

function InviteError({ error }: { error: unknown }) {
  const { t } = useTranslation();
  const code = error instanceof ApiError ? error.code : "";
  const known = INVITE_CODES.find((c) => c === code);
  if (known === undefined) return <ErrorNotice error={error} />;
  return (
    <div className="notice notice--error" role="alert" data-testid="error-notice" data-code={known}>
      <p className="notice__headline">{t(`staffInvites.errors.${known}`)}</p>
    </div>
  );
}

function parseChoice(value: string): RoleChoice {
  const [kind = "", rest = ""] = value.split(":", 2);
  return kind === "custom" ? { kind: "custom", id: rest } : { kind: "built_in", role: rest as BuiltInRoleName };
}

/**
 * Invite by e-mail with a role, and the open invitations: resend (a new link, the old one dies)
 * or revoke. Roles beyond the inviter's own permissions are refused by the server.
 */
export function InvitationsSection({ roleOptions }: { roleOptions: { builtIn: RoleOption[]; custom: RoleOption[] } }) {
  const { t, i18n } = useTranslation();
  const ids = { email: useId(), role: useId(), title: useId() };
  const invitations = useInvitations();
  const invite = useInvite();
  const resend = useResendInvitation();
  const revoke = useRevokeInvitation();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("built_in:support_agent");
  const [problem, setProblem] = useState<string | null>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const date = new Intl.DateTimeFormat(i18n.language, { dateStyle: "medium", timeStyle: "short" });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (invite.isPending) return;
    const address = email.trim();
    setSentTo(null);
    if (!/^[^\s@]+@[^\s@]+$/.test(address)) {
      setProblem(t("staffInvites.emailInvalid"));
      return;
    }
    setProblem(null);
    invite.mutate(
      { email: address, role: parseChoice(role) },
      {
        onSuccess: (created) => {
          setSentTo(created.email);
          setEmail("");
        },
      },
    );
  }

  const items = invitations.data?.items ?? [];
  return (
    <section className="stack" aria-labelledby={ids.title} data-testid="invitations">
      <header className="page-header">
        <h2 id={ids.title}>{t("staffInvites.title")}</h2>
      </header>
      <form className="card form staff-invite" onSubmit={submit} noValidate data-testid="invite-form">
        <div className="staff-invite__fields">
          <div className="field">
            <label className="field__label" htmlFor={ids.email}>
              {t("staffInvites.email")}
            </label>
            <input
              id={ids.email}
              type="email"
              autoComplete="off"
              value={email}
              maxLength={254}
              aria-invalid={problem ? true : undefined}
              aria-describedby={problem ? `${ids.email}-error` : undefined}
              onChange={(e) => {
                setEmail(e.target.value);
                setProblem(null);
              }}
              data-testid="invite-email"
            />
            {problem && (
              <p className="field__error" id={`${ids.email}-error`}>
                {problem}
              </p>
            )}
          </div>
          <div className="field">
            <label className="field__label" htmlFor={ids.role}>
              {t("staffInvites.role")}
            </label>
            <select
              id={ids.role}
              value={role}
              onChange={(e) => {
                setRole(e.target.value);
              }}
              data-testid="invite-role"
            >
              <optgroup label={t("staffAdmin.builtIn")}>
                {roleOptions.builtIn.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </optgroup>
              {roleOptions.custom.length > 0 && (
                <optgroup label={t("staffAdmin.custom")}>
                  {roleOptions.custom.map((o) => (
                    <option key={o.value} value={o.value}>
                      {o.label}
                    </option>
                  ))}
                </optgroup>
              )}
            </select>
          </div>
        </div>
        <p className="field__hint">{t("staffInvites.hint")}</p>
        {invite.isError && <InviteError error={invite.error} />}
        {sentTo && (
          <div className="notice notice--success" role="status" data-testid="invite-sent">
            <p>{t("staffInvites.sent", { email: sentTo })}</p>
          </div>
        )}
        <div>
          <button type="submit" className="button button--primary" disabled={invite.isPending} data-testid="invite-send">
            {t("staffInvites.send")}
          </button>
        </div>
      </form>

      {invitations.isPending && <Loading />}
      {invitations.isError && <ErrorNotice error={invitations.error} />}
      {resend.isError && <InviteError error={resend.error} />}
      {revoke.isError && <ErrorNotice error={revoke.error} />}
      {invitations.isSuccess && items.length === 0 && (
        <p className="card empty-state" data-testid="invitations-empty">
          {t("staffInvites.none")}
        </p>
      )}
      {items.length > 0 && (
        <ul className="card staff-admin__roles" data-testid="invitation-list">
          {items.map((item) => (
            <li key={item.id} data-testid="invitation" data-email={item.email}>
              <div>
                <strong className="staff-invite__email">{item.email}</strong>{" "}
                {item.expired && <span className="badge badge--warning">{t("staffInvites.expired")}</span>}
                <div className="muted">
                  {item.role.built_in ? t(`staffAdmin.roles.${item.role.built_in}`) : (item.role.custom_name ?? "")} ·{" "}
                  {t("staffInvites.sentBy", { name: item.invited_by, date: date.format(new Date(item.sent_at)) })}
                  {item.sends > 1 && <> · {t("staffInvites.sends", { count: item.sends })}</>}
                </div>
              </div>
              <div className="staff-admin__actions">
                <button
                  type="button"
                  className="button button--small"
                  disabled={resend.isPending}
                  onClick={() => {
                    resend.mutate(item.id);
                  }}
                  data-testid="invitation-resend"
                >
                  {t("staffInvites.resend")}
                </button>
                <button
                  type="button"
                  className="button button--small button--ghost"
                  disabled={revoke.isPending}
                  onClick={() => {
                    revoke.mutate(item.id);
                  }}
                  data-testid="invitation-revoke"
                >
                  {t("staffInvites.revoke")}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
