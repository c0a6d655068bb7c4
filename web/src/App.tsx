import { useTranslation } from "react-i18next";
import { BrowserRouter, Route, Routes } from "react-router";
import { ConsoleArea } from "./console/ConsoleArea";
import { PlatformArea } from "./platform/PlatformArea";
import { PortalArea } from "./portal/PortalArea";
import { useApplyBranding, useSite } from "./shared/site/site";
import { ErrorNotice } from "./shared/ui/ErrorNotice";
import { Loading } from "./shared/ui/Loading";

/**
 * The same bundle serves every host; GET /api/v1/site says which kind this one is:
 * an ISP (portal at /, staff console at /console) or the SaaS platform (operator console).
 */
export function App() {
  const { t } = useTranslation();
  const site = useSite();
  const branding = site.data?.branding;
  useApplyBranding(branding);

  if (site.isPending) return <Loading fill />;
  if (site.isError) {
    return (
      <main className="site-error">
        <h1>{t("errors.siteUnavailable")}</h1>
        <ErrorNotice
          error={site.error}
          onRetry={() => {
            void site.refetch();
          }}
        />
      </main>
    );
  }

  return (
    <BrowserRouter>
      {site.data.kind === "platform" ? (
        <PlatformArea />
      ) : (
        <Routes>
          <Route path="/console/*" element={<ConsoleArea />} />
          <Route path="/*" element={<PortalArea />} />
        </Routes>
      )}
    </BrowserRouter>
  );
}
