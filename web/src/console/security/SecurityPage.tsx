import { useTranslation } from "react-i18next";
import { TwoFactorCard } from "../../shared/security/TwoFactorCard";
import { usePageTitle } from "../../shared/site/site";

/** The staff member's own account security (two-factor authentication). */
export function SecurityPage() {
  const { t } = useTranslation();
  usePageTitle(t("security.title"));
  return (
    <div className="stack security-page" data-testid="console-security-page">
      <header className="page-header">
        <h1>{t("security.title")}</h1>
        <p className="muted">{t("security.intro")}</p>
      </header>
      <TwoFactorCard audience="staff" />
    </div>
  );
}
