import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import type { TenantRow, TenantStatus } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge, type BadgeTone } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { ReasonDialog } from "../ReasonDialog";
import { ImpersonateAction } from "../support/ImpersonateAction";
import { TenantLifecycle } from "./TenantLifecycle";
import { TenantSaasBilling } from "./TenantSaasBilling";
import "./tenants.css";

const STATUS_TONE: Record<TenantStatus, BadgeTone> = { active: "success", suspended: "warning" };

/** A tenant host on the scheme and port this console is served on (`:8080` in development). */
function siteUrl(host: string): string {
  const { protocol, port } = window.location;
  return `${protocol}//${host}${port ? `:${port}` : ""}/`;
}

function useDebounced(value: string, ms: number): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => {
      setSettled(value);
    }, ms);
    return () => {
      clearTimeout(timer);
    };
  }, [value, ms]);
  return settled;
}

/** Every ISP with its health (measured by each scheduler round), searchable; suspend and resume. */
export function TenantsPage() {
  const { t } = useTranslation();
  const format = useFormat();
  usePageTitle(t("platform.tenants.title"));
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim(), 250);
  const tenants = useQuery({
    queryKey: ["platform", "tenants", q],
    queryFn: () => data(api.GET("/platform/tenants", { params: { query: q ? { q } : {} } })),
    placeholderData: (previous) => previous,
    // While some ISP's archive is being built, look again every few seconds (one request for
    // the whole list, never one per row).
    refetchInterval: (query) =>
      query.state.data?.items.some((row) => {
        const state = row.lifecycle?.latest_export?.state;
        return state === "queued" || state === "running";
      })
        ? 2000
        : false,
  });

  return (
    <div className="stack">
      <header className="page-header tenants-header">
        <h1>{t("platform.tenants.title")}</h1>
        <input
          type="search"
          className="tenants-search"
          placeholder={t("platform.tenants.search")}
          aria-label={t("platform.tenants.search")}
          maxLength={100}
          value={search}
          onChange={(e) => {
            setSearch(e.target.value);
          }}
          data-testid="tenant-search"
        />
      </header>
      {tenants.isPending && <Loading />}
      {tenants.isError && (
        <ErrorNotice
          error={tenants.error}
          onRetry={() => {
            void tenants.refetch();
          }}
        />
      )}
      {tenants.data && tenants.data.items.length === 0 && (
        <p className="card empty-state">{q ? t("platform.tenants.noMatch") : t("platform.tenants.empty")}</p>
      )}
      {tenants.data && tenants.data.items.length > 0 && (
        <div className="card table-card tenants-table">
          <table className="data-table" data-testid="tenant-table">
            <thead>
              <tr>
                <th scope="col">{t("platform.tenants.name")}</th>
                <th scope="col">{t("platform.tenants.status")}</th>
                <th scope="col">{t("platform.tenants.subscribers")}</th>
                <th scope="col">{t("platform.tenants.openTickets")}</th>
                <th scope="col">{t("platform.tenants.lastActivity")}</th>
                <th scope="col">{t("platform.tenants.plan")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("platform.tenants.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tenants.data.items.map((tenant) => (
                <tr key={tenant.slug} data-testid="tenant-row" data-slug={tenant.slug} data-status={tenant.status}>
                  <td className="data-table__primary">
                    {tenant.name}
                    <ul className="plain-list tenant-hosts">
                      {tenant.hosts.map((host) => (
                        <li key={host}>
                          <a href={siteUrl(host)} target="_blank" rel="noreferrer">
                            {host}
                          </a>
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td className="tenant-status-cell" data-label={t("platform.tenants.status")}>
                    <div className="tenant-badges">
                      <Badge tone={STATUS_TONE[tenant.status]}>{t(`platform.tenants.statuses.${tenant.status}`)}</Badge>
                      {!tenant.published && <Badge tone="neutral">{t("platform.tenants.unpublished")}</Badge>}
                      {tenant.trial_ends_at && (
                        <Badge tone="info">
                          {t("platform.tenants.trialUntil", { date: format.date(tenant.trial_ends_at) })}
                        </Badge>
                      )}
                    </div>
                    {tenant.suspended_reason && (
                      <p className="muted tenant-reason" data-testid="tenant-suspended-reason">
                        {tenant.suspended_reason}
                      </p>
                    )}
                    <TenantSaasBilling billing={tenant.billing} />
                  </td>
                  <td data-label={t("platform.tenants.subscribers")} data-testid="tenant-subscribers">
                    {tenant.health
                      ? t("platform.tenants.activeOf", {
                          active: tenant.health.active_subscribers,
                          all: tenant.health.subscribers,
                        })
                      : "—"}
                  </td>
                  <td data-label={t("platform.tenants.openTickets")}>{tenant.health?.open_tickets ?? "—"}</td>
                  <td data-label={t("platform.tenants.lastActivity")}>
                    {tenant.health?.last_activity_at ? format.dateTime(tenant.health.last_activity_at) : "—"}
                  </td>
                  <td data-label={t("platform.tenants.plan")}>
                    <span className="tenant-plan">{tenant.saas_plan}</span>
                  </td>
                  <td>
                    <div className="tenant-actions">
                      {tenant.status === "active" && <ImpersonateAction tenant={tenant} />}
                      <StatusAction tenant={tenant} />
                    </div>
                    <TenantLifecycle
                      slug={tenant.slug}
                      name={tenant.name}
                      lifecycle={tenant.lifecycle}
                      fetchedAt={tenants.dataUpdatedAt}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** Suspend (asks for the reason, which goes into the ISP's audit log) or resume. */
function StatusAction({ tenant }: { tenant: TenantRow }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const change = useMutation({
    mutationFn: (suspend: { reason: string } | null) =>
      suspend
        ? data(
            api.POST("/platform/tenants/{slug}/suspend", {
              params: { path: { slug: tenant.slug } },
              body: { reason: suspend.reason },
            }),
          )
        : data(api.POST("/platform/tenants/{slug}/resume", { params: { path: { slug: tenant.slug } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["platform", "tenants"] }),
  });

  if (tenant.status === "suspended") {
    // A scheduled deletion keeps the ISP suspended (resuming is refused): cancel the deletion
    // in the row's lifecycle instead.
    if (tenant.lifecycle?.scheduled_deletion) return null;
    return (
      <>
        <button
          type="button"
          className="button button--small"
          disabled={change.isPending}
          onClick={() => {
            change.mutate(null);
          }}
          data-testid="tenant-resume"
        >
          {t("platform.tenants.resume")}
        </button>
        {change.isError && <ErrorNotice error={change.error} />}
      </>
    );
  }
  return (
    <>
      <button
        type="button"
        className="button button--ghost button--small"
        onClick={() => {
          setOpen(true);
        }}
        data-testid="tenant-suspend"
      >
        {t("platform.tenants.suspend")}
      </button>
      {open && (
        <ReasonDialog
          title={t("platform.tenants.suspendTitle", { name: tenant.name })}
          explain={t("platform.tenants.suspendExplain")}
          reasonLabel={t("platform.tenants.reason")}
          minLength={3}
          confirmLabel={t("platform.tenants.suspend")}
          cancelLabel={t("platform.tenants.cancel")}
          danger
          pending={change.isPending}
          error={change.error}
          onSubmit={(reason, close) => {
            change.mutate({ reason }, { onSuccess: close });
          }}
          onClose={() => {
            setOpen(false);
            change.reset();
          }}
          testIds={{ form: "suspend-form", reason: "suspend-reason", confirm: "suspend-confirm" }}
        />
      )}
    </>
  );
}
