import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link, NavLink } from "react-router";
import { useBranding } from "../site/site";
import { useSession, useSignOut } from "../session/session";
import { LanguageSwitcher } from "./LanguageSwitcher";
import "./shell.css";

/**
 * Header (brand, navigation, language, who is signed in), page body and footer with the
 * ISP's support contacts. Used by all three areas; `area` names the product part under the brand.
 */
export function AppShell({
  home,
  area,
  nav,
  profile,
  tools,
  children,
}: {
  home: string;
  area?: string;
  nav?: ReactNode;
  /** Where the signed-in name links to (the subscriber's profile); plain text without it. */
  profile?: string;
  /** Extra controls next to the signed-in name (the portal's notification bell). */
  tools?: ReactNode;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  const branding = useBranding();
  const session = useSession().data;
  const signOut = useSignOut();
  const name = branding?.name ?? "Kabinet";

  return (
    <div className="shell">
      <header className="shell__header">
        <div className="shell__bar">
          <Link to={home} className="brand" data-testid="brand">
            {branding?.logo_url ? (
              <img className="brand__logo" src={branding.logo_url} alt="" />
            ) : (
              <span className="brand__mark" aria-hidden="true">
                {name.slice(0, 1).toUpperCase()}
              </span>
            )}
            <span className="brand__text">
              <span className="brand__name" data-testid="brand-name">
                {name}
              </span>
              {area && <span className="brand__area">{area}</span>}
            </span>
          </Link>
          <div className="shell__tools">
            <LanguageSwitcher />
            {session && (
              <>
                {tools}
                {profile ? (
                  <NavLink
                    to={profile}
                    className="shell__user shell__user--link"
                    title={t("common.openProfile", { name: session.display_name })}
                    data-testid="profile-link"
                  >
                    <svg className="shell__user-icon" viewBox="0 0 24 24" aria-hidden="true">
                      <circle cx="12" cy="8" r="4" />
                      <path d="M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7" />
                    </svg>
                    <span className="shell__user-name">{session.display_name}</span>
                  </NavLink>
                ) : (
                  <span className="shell__user" title={t("common.signedInAs", { name: session.display_name })}>
                    {session.display_name}
                  </span>
                )}
                <button
                  type="button"
                  className="button button--ghost button--small"
                  data-testid="sign-out"
                  disabled={signOut.isPending}
                  onClick={() => {
                    signOut.mutate();
                  }}
                >
                  {t("common.signOut")}
                </button>
              </>
            )}
          </div>
        </div>
        {nav && session && (
          <nav className="shell__nav" aria-label={t("common.mainNav")}>
            {nav}
          </nav>
        )}
      </header>
      <main className="shell__main" id="main">
        {children}
      </main>
      {branding && (
        <footer className="shell__footer">
          {(branding.support_phone ?? branding.support_email) && (
            <p>
              <span>{t("support.contacts")}: </span>
              {branding.support_phone && <a href={`tel:${branding.support_phone}`}>{branding.support_phone}</a>}
              {branding.support_phone && branding.support_email && " · "}
              {branding.support_email && <a href={`mailto:${branding.support_email}`}>{branding.support_email}</a>}
            </p>
          )}
          <p className="shell__powered">{t("common.poweredBy")}</p>
        </footer>
      )}
    </div>
  );
}
