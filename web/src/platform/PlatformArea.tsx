import { useTranslation } from "react-i18next";
import { NavLink, Route, Routes } from "react-router";
import { SessionGate } from "../shared/session/SessionGate";
import { AppShell } from "../shared/ui/AppShell";
import { NotFound } from "../shared/ui/NotFound";
import { OperatorSignIn } from "./auth/OperatorSignIn";
import { PlatformMetricsPage } from "./metrics/PlatformMetricsPage";
import { PlansPage } from "./plans/PlansPage";
import { SignupPage } from "./signup/SignupPage";
import { TenantsPage } from "./tenants/TenantsPage";

/** The SaaS operator's console on the platform host, and the ISPs' self-serve signup (/signup). */
export function PlatformArea() {
  const { t } = useTranslation();
  const nav = (
    <>
      <NavLink to="/" end>
        {t("platform.tenants.title")}
      </NavLink>
      <NavLink to="/plans" data-testid="nav-platform-plans">
        {t("saasPlans.platform.nav")}
      </NavLink>
      <NavLink to="/metrics" data-testid="nav-platform-metrics">
        {t("platform.metrics.nav")}
      </NavLink>
    </>
  );
  return (
    <AppShell home="/" area={t("platform.title")} nav={nav}>
      <Routes>
        {/* Public: a new ISP signs itself up here. */}
        <Route path="signup" element={<SignupPage />} />
        <Route
          path="*"
          element={
            <SessionGate kind="operator" signIn={<OperatorSignIn />}>
              <Routes>
                <Route index element={<TenantsPage />} />
                <Route path="plans" element={<PlansPage />} />
                <Route path="metrics" element={<PlatformMetricsPage />} />
                <Route path="*" element={<NotFound home="/" />} />
              </Routes>
            </SessionGate>
          }
        />
      </Routes>
    </AppShell>
  );
}
