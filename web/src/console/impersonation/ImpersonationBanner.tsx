import { useTranslation } from "react-i18next";
import { useFormat } from "../../shared/i18n/format";
import { useSession, useSignOut } from "../../shared/session/session";
import "./impersonation.css";

/**
 * Shown on every console page while a platform operator is in this console on a support visit:
 * who, why and until when, with the way out. The server ends the session at that time anyway.
 */
export function ImpersonationBanner() {
  const { t } = useTranslation();
  const format = useFormat();
  const session = useSession();
  const signOut = useSignOut();
  const visit = session.data?.impersonation;
  if (!visit) return null;
  return (
    <div className="impersonation-banner" role="status" data-testid="impersonation-banner">
      <p>
        <strong>{t("operatorSupport.banner.title", { name: visit.operator_name })}</strong>{" "}
        <span>{t("operatorSupport.banner.reason", { reason: visit.reason })}</span>{" "}
        <span>{t("operatorSupport.banner.until", { time: format.dateTime(visit.expires_at) })}</span>{" "}
        <span className="impersonation-banner__access">{t(`operatorSupport.access.${visit.access}`)}</span>
      </p>
      <button
        type="button"
        className="button button--small"
        disabled={signOut.isPending}
        onClick={() => {
          signOut.mutate(undefined, {
            onSettled: () => {
              window.location.assign("/console");
            },
          });
        }}
        data-testid="impersonation-end"
      >
        {t("operatorSupport.banner.end")}
      </button>
    </div>
  );
}
