import { useMutation } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import type { TenantRow, VisitAccess } from "../../api/types";
import { ReasonDialog } from "../ReasonDialog";
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
  const [minutes, setMinutes] = useState<number>(30);
  const [access, setAccess] = useState<VisitAccess>("read_only");
  const start = useMutation({
    mutationFn: (reason: string) =>
      data(
        api.POST("/platform/tenants/{slug}/impersonations", {
          params: { path: { slug: tenant.slug } },
          body: { reason, minutes, access },
        }),
      ),
    onSuccess: (started) => {
      window.location.assign(entryUrl(started.host, started.entry_path, started.token));
    },
  });
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
        <ReasonDialog
          title={t("operatorSupport.enterTitle", { name: tenant.name })}
          explain={t("operatorSupport.enterExplain")}
          reasonLabel={t("operatorSupport.reason")}
          reasonHint={t("operatorSupport.reasonHint", { count: MIN_REASON })}
          minLength={MIN_REASON}
          multiline
          confirmLabel={t("operatorSupport.enterSubmit")}
          cancelLabel={t("platform.tenants.cancel")}
          pending={start.isPending}
          error={start.error}
          onSubmit={(reason) => {
            start.mutate(reason);
          }}
          onClose={() => {
            setOpen(false);
            start.reset();
          }}
          testIds={{ form: "impersonate-form", reason: "impersonate-reason", confirm: "impersonate-confirm" }}
        >
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
        </ReasonDialog>
      )}
    </>
  );
}
