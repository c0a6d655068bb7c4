import { useMutation } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import type { TenantRow, VisitAccess } from "../../api/types";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import "./support.css";

/** The shortest reason the server accepts (it checks the same). */
const MIN_REASON = 10;
const DURATIONS = [15, 30, 60, 120] as const;
const ACCESS: VisitAccess[] = ["read_only", "support"];

/** The ISP's console entry page on the scheme and port this console is served on. */
function entryUrl(host: string, path: string, token: string): string {
  const { protocol, port } = window.location;
  return `${protocol}//${host}${port ? `:${port}` : ""}${path}#${token}`;
}

/**
 * «Войти в консоль ISP»: a stated reason, a time box and an access level; the browser then goes
 * to the ISP's host with a single-use token that works there for a minute.
 */
export function ImpersonateAction({ tenant }: { tenant: TenantRow }) {
  const { t } = useTranslation();
  const id = useId();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [minutes, setMinutes] = useState<number>(30);
  const [access, setAccess] = useState<VisitAccess>("read_only");
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (open && !dialog.current?.open) dialog.current?.showModal();
  }, [open]);
  const start = useMutation({
    mutationFn: () =>
      data(
        api.POST("/platform/tenants/{slug}/impersonations", {
          params: { path: { slug: tenant.slug } },
          body: { reason: reason.trim(), minutes, access },
        }),
      ),
    onSuccess: (started) => {
      window.location.assign(entryUrl(started.host, started.entry_path, started.token));
    },
  });
  const close = () => {
    dialog.current?.close();
    setOpen(false);
    setReason("");
    start.reset();
  };
  const valid = reason.trim().length >= MIN_REASON;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!valid || start.isPending) return;
    start.mutate();
  };
  return (
    <>
      <button
        type="button"
        className="button button--ghost button--small"
        onClick={() => {
          setOpen(true);
        }}
        data-testid="tenant-impersonate"
      >
        {t("operatorSupport.enter")}
      </button>
      {open && (
        <dialog ref={dialog} className="tenant-dialog" onClose={close} aria-labelledby={`${id}-title`}>
          <form className="form" onSubmit={submit} data-testid="impersonate-form">
            <h2 id={`${id}-title`}>{t("operatorSupport.enterTitle", { name: tenant.name })}</h2>
            <p className="muted">{t("operatorSupport.enterExplain")}</p>
            <div className="field">
              <label className="field__label" htmlFor={`${id}-reason`}>
                {t("operatorSupport.reason")}
              </label>
              <textarea
                id={`${id}-reason`}
                rows={3}
                minLength={MIN_REASON}
                maxLength={500}
                required
                value={reason}
                onChange={(e) => {
                  setReason(e.target.value);
                }}
                aria-describedby={`${id}-reason-hint`}
                data-testid="impersonate-reason"
              />
              <p className="field__hint muted" id={`${id}-reason-hint`}>
                {t("operatorSupport.reasonHint", { count: MIN_REASON })}
              </p>
            </div>
            <div className="field">
              <label className="field__label" htmlFor={`${id}-minutes`}>
                {t("operatorSupport.duration")}
              </label>
              <select
                id={`${id}-minutes`}
                value={minutes}
                onChange={(e) => {
                  setMinutes(Number(e.target.value));
                }}
                data-testid="impersonate-minutes"
              >
                {DURATIONS.map((m) => (
                  <option key={m} value={m}>
                    {t("operatorSupport.minutes", { count: m })}
                  </option>
                ))}
              </select>
            </div>
            <fieldset className="field">
              <legend className="field__label">{t("operatorSupport.accessLabel")}</legend>
              {ACCESS.map((level) => (
                <label key={level} className="radio">
                  <input
                    type="radio"
                    name={`${id}-access`}
                    value={level}
                    checked={access === level}
                    onChange={() => {
                      setAccess(level);
                    }}
                    data-testid={`impersonate-access-${level}`}
                  />
                  <span>
                    {t(`operatorSupport.access.${level}`)}
                    <span className="muted"> — {t(`operatorSupport.accessHint.${level}`)}</span>
                  </span>
                </label>
              ))}
            </fieldset>
            {start.isError && <ErrorNotice error={start.error} />}
            <div className="tenant-dialog__actions">
              <button
                type="submit"
                className="button"
                disabled={!valid || start.isPending}
                data-testid="impersonate-confirm"
              >
                {t("operatorSupport.enterSubmit")}
              </button>
              <button type="button" className="button button--ghost" onClick={close}>
                {t("platform.tenants.cancel")}
              </button>
            </div>
          </form>
        </dialog>
      )}
    </>
  );
}
