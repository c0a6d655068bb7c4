import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import type { TenantStatus } from "../../api/types";
import { usePageTitle } from "../../shared/site/site";
import { Badge, type BadgeTone } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";

const STATUS_TONE: Record<TenantStatus, BadgeTone> = { active: "success", suspended: "warning" };

/** A tenant host on the scheme and port this console is served on (`:8080` in development). */
function siteUrl(host: string): string {
  const { protocol, port } = window.location;
  return `${protocol}//${host}${port ? `:${port}` : ""}/`;
}

export function TenantsPage() {
  const { t } = useTranslation();
  usePageTitle(t("platform.tenants.title"));
  const tenants = useQuery({
    queryKey: ["platform", "tenants"],
    queryFn: () => data(api.GET("/platform/tenants")),
  });

  return (
    <div className="stack">
      <header className="page-header">
        <h1>{t("platform.tenants.title")}</h1>
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
        <p className="card empty-state">{t("platform.tenants.empty")}</p>
      )}
      {tenants.data && tenants.data.items.length > 0 && (
        <div className="card table-card">
          <table className="data-table" data-testid="tenant-table">
            <thead>
              <tr>
                <th scope="col">{t("platform.tenants.name")}</th>
                <th scope="col">{t("platform.tenants.slug")}</th>
                <th scope="col">{t("platform.tenants.status")}</th>
                <th scope="col">{t("platform.tenants.hosts")}</th>
                <th scope="col">{t("platform.tenants.plan")}</th>
              </tr>
            </thead>
            <tbody>
              {tenants.data.items.map((tenant) => (
                <tr key={tenant.slug} data-testid="tenant-row" data-slug={tenant.slug}>
                  <td className="data-table__primary">{tenant.name}</td>
                  <td data-label={t("platform.tenants.slug")}>
                    <code>{tenant.slug}</code>
                  </td>
                  <td data-label={t("platform.tenants.status")}>
                    <Badge tone={STATUS_TONE[tenant.status]}>{t(`platform.tenants.statuses.${tenant.status}`)}</Badge>
                  </td>
                  <td data-label={t("platform.tenants.hosts")}>
                    <ul className="plain-list">
                      {tenant.hosts.map((host) => (
                        <li key={host}>
                          <a href={siteUrl(host)} target="_blank" rel="noreferrer">
                            {host}
                          </a>
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td data-label={t("platform.tenants.plan")}>
                    <span className="tenant-plan">{tenant.saas_plan}</span>
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
