import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { API_BASE, api, data } from "../../api/client";
import type { TenantRow } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import "./tenant-lifecycle.css";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The end of an ISP's life in the operator's tenant list: export all its data (an archive built
 * in the background, then downloadable), schedule its deletion with a reason once an export is
 * fresh, see the countdown, and cancel during the grace period.
 */
export function TenantLifecycle({
  slug,
  name,
  lifecycle,
  fetchedAt,
}: {
  slug: string;
  name: string;
  /** From the tenant list's row: this component asks for nothing of its own on load. */
  lifecycle: TenantRow["lifecycle"];
  /** When the list was fetched (the countdown is counted from it, so render stays pure). */
  fetchedAt: number;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const client = useQueryClient();
  // The row refreshes with the list (which polls while an archive is being built).
  const refreshList = () => client.invalidateQueries({ queryKey: ["platform", "tenants"] });
  const latest = lifecycle?.latest_export;
  const building = latest?.state === "queued" || latest?.state === "running";

  const requestExport = useMutation({
    mutationFn: () => data(api.POST("/platform/tenants/{slug}/exports", { params: { path: { slug } } })),
    onSuccess: refreshList,
  });
  const cancel = useMutation({
    mutationFn: () => data(api.DELETE("/platform/tenants/{slug}/deletion", { params: { path: { slug } } })),
    onSuccess: refreshList,
  });

  const scheduled = lifecycle?.scheduled_deletion;
  const daysLeft = scheduled ? Math.max(0, Math.ceil((Date.parse(scheduled.due_at) - fetchedAt) / DAY_MS)) : 0;

  return (
    <div className="tenant-lifecycle" data-testid="tenant-lifecycle" data-deletion={scheduled ? "scheduled" : "none"}>
      {scheduled && (
        <div className="tenant-lifecycle__deletion" data-testid="tenant-deletion-scheduled">
          <Badge tone="danger">{t("tenantLifecycle.scheduledBadge", { date: format.date(scheduled.due_at) })}</Badge>
          <span className="muted" data-testid="tenant-deletion-countdown">
            {t("tenantLifecycle.countdown", { count: daysLeft })}
          </span>
          <button
            type="button"
            className="button button--small"
            disabled={cancel.isPending}
            onClick={() => {
              cancel.mutate();
            }}
            data-testid="tenant-deletion-cancel"
          >
            {t("tenantLifecycle.cancelDeletion")}
          </button>
          {cancel.isError && <ErrorNotice error={cancel.error} />}
        </div>
      )}
      <div className="tenant-lifecycle__export">
        <button
          type="button"
          className="button button--ghost button--small"
          disabled={building || requestExport.isPending}
          onClick={() => {
            requestExport.mutate();
          }}
          data-testid="tenant-export"
        >
          {building ? t("tenantLifecycle.exporting") : t("tenantLifecycle.exportData")}
        </button>
        {latest && (
          <span className="muted tenant-lifecycle__status" data-testid="tenant-export-state" data-state={latest.state}>
            {t("tenantLifecycle.lastExport", {
              date: format.dateTime(latest.finished_at ?? latest.created_at),
              state: t(`tenantLifecycle.exportStates.${latest.state}`),
            })}
            {latest.state === "done" && latest.bytes != null && (
              <>
                {" · "}
                <a
                  href={`${API_BASE}/platform/exports/${latest.id}/archive`}
                  download
                  data-testid="tenant-export-download"
                >
                  {t("tenantLifecycle.download")}
                </a>{" "}
                ({t("tenantLifecycle.size", { size: (latest.bytes / 1_000_000).toFixed(1) })})
              </>
            )}
          </span>
        )}
        {requestExport.isError && <ErrorNotice error={requestExport.error} />}
      </div>
      {!scheduled && lifecycle && <ScheduleDeletion slug={slug} name={name} allowed={lifecycle.can_schedule} />}
    </div>
  );
}

/** The button and the dialog asking for the reason and the grace period. */
function ScheduleDeletion({ slug, name, allowed }: { slug: string; name: string; allowed: boolean }) {
  const { t } = useTranslation();
  const id = useId();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [days, setDays] = useState(30);
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (open && !dialog.current?.open) dialog.current?.showModal();
  }, [open]);
  const schedule = useMutation({
    mutationFn: () =>
      data(
        api.POST("/platform/tenants/{slug}/deletion", {
          params: { path: { slug } },
          body: { reason: reason.trim(), grace_days: days },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: ["platform", "tenants"] }),
  });
  const close = () => {
    dialog.current?.close();
    setOpen(false);
    setReason("");
    setDays(30);
    schedule.reset();
  };
  const valid = reason.trim().length >= 10 && days >= 1 && days <= 365;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!valid || schedule.isPending) return;
    schedule.mutate(undefined, { onSuccess: close });
  };
  return (
    <>
      <button
        type="button"
        className="button button--ghost button--small tenant-lifecycle__delete"
        disabled={!allowed}
        title={allowed ? undefined : t("tenantLifecycle.needExport")}
        onClick={() => {
          setOpen(true);
        }}
        data-testid="tenant-deletion-schedule"
      >
        {t("tenantLifecycle.schedule")}
      </button>
      {!allowed && <span className="muted tenant-lifecycle__hint">{t("tenantLifecycle.needExport")}</span>}
      {open && (
        <dialog ref={dialog} className="tenant-dialog" onClose={close} aria-labelledby={`${id}-title`}>
          <form className="form" onSubmit={submit} data-testid="deletion-form">
            <h2 id={`${id}-title`}>{t("tenantLifecycle.dialogTitle", { name })}</h2>
            <p className="muted">{t("tenantLifecycle.dialogExplain")}</p>
            <div className="field">
              <label className="field__label" htmlFor={`${id}-reason`}>
                {t("tenantLifecycle.reason")}
              </label>
              <textarea
                id={`${id}-reason`}
                minLength={10}
                maxLength={500}
                rows={3}
                required
                value={reason}
                onChange={(e) => {
                  setReason(e.target.value);
                }}
                data-testid="deletion-reason"
              />
            </div>
            <div className="field">
              <label className="field__label" htmlFor={`${id}-days`}>
                {t("tenantLifecycle.graceDays")}
              </label>
              <input
                id={`${id}-days`}
                type="number"
                min={1}
                max={365}
                required
                value={days}
                onChange={(e) => {
                  setDays(Number(e.target.value));
                }}
                data-testid="deletion-days"
              />
            </div>
            {schedule.isError && <ErrorNotice error={schedule.error} />}
            <div className="tenant-dialog__actions">
              <button
                type="submit"
                className="button button--danger"
                disabled={!valid || schedule.isPending}
                data-testid="deletion-confirm"
              >
                {t("tenantLifecycle.confirm")}
              </button>
              <button type="button" className="button button--ghost" onClick={close}>
                {t("tenantLifecycle.cancel")}
              </button>
            </div>
          </form>
        </dialog>
      )}
    </>
  );
}
