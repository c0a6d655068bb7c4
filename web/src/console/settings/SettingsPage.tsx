import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { API_BASE } from "../../api/client";
import { usePageTitle } from "../../shared/site/site";
import { AUDIT_READ } from "../audit/audit";
import { SETTINGS_MANAGE, useHasPermission } from "../subscribers/billing";
import "./settings.css";

/**
 * `/console/settings`: the ISP's own set-up in one place (how the portal looks, card payments,
 * domains, the letters subscribers get, the Kabinet plan, operator visits), so the console's
 * top bar keeps to the daily work. Each card shows only to those who may open it.
 */
export function SettingsPage() {
  const { t } = useTranslation();
  usePageTitle(t("settingsHub.title"));
  const mayManage = useHasPermission(SETTINGS_MANAGE);
  const mayReadAudit = useHasPermission(AUDIT_READ);
  const cards = [
    { show: mayManage, to: "/console/settings/branding", key: "branding", testId: "settings-branding" },
    { show: mayManage, to: "/console/settings/payments", key: "payments", testId: "settings-payments" },
    { show: mayManage, to: "/console/settings/domains", key: "domains", testId: "nav-console-domains" },
    { show: mayManage, to: "/console/settings/letters", key: "letters", testId: "nav-console-letters" },
    { show: mayManage, to: "/console/settings/attachments", key: "attachments", testId: "settings-attachments" },
    { show: mayManage, to: "/console/settings/ticket-categories", key: "ticketCategories", testId: "settings-ticket-categories" },
    { show: true, to: "/console/plan", key: "plan", testId: "nav-console-plan" },
    { show: mayReadAudit, to: "/console/impersonations", key: "visits", testId: "nav-console-impersonations" },
  ] as const;
  return (
    <div className="stack settings-hub" data-testid="settings-hub">
      <header className="page-header">
        <h1>{t("settingsHub.title")}</h1>
        <p className="muted">{t("settingsHub.intro")}</p>
      </header>
      <ul className="settings-hub__grid">
        {cards
          .filter((card) => card.show)
          .map((card) => (
            <li key={card.key}>
              <Link className="card settings-hub__card" to={card.to} data-testid={card.testId}>
                <strong>{t(`settingsHub.cards.${card.key}.title`)}</strong>
                <span className="muted">{t(`settingsHub.cards.${card.key}.hint`)}</span>
              </Link>
            </li>
          ))}
      </ul>
      {mayManage && (
        <section className="card settings-hub__manifest" data-testid="settings-manifest">
          <div>
            <strong>{t("settingsHub.manifest.title")}</strong>
            <p className="muted">{t("settingsHub.manifest.hint")}</p>
          </div>
          <a className="button button--ghost" href={`${API_BASE}/console/settings/manifest`} download data-testid="settings-manifest-download">
            {t("settingsHub.manifest.download")}
          </a>
        </section>
      )}
    </div>
  );
}
