import { useTranslation } from "react-i18next";
import { Navigate, NavLink, Route, Routes } from "react-router";
import { ForgotPasswordPage } from "../shared/password/ForgotPasswordPage";
import { SessionGate } from "../shared/session/SessionGate";
import { AppShell } from "../shared/ui/AppShell";
import { NotFound } from "../shared/ui/NotFound";
import { StaffSignIn } from "./auth/StaffSignIn";
import { OrderQueuePage } from "./equipment/OrderQueuePage";
import { OrderViewPage } from "./equipment/OrderViewPage";
import { ORDERS_READ } from "./equipment/orders";
import { NewsAdminPage } from "./news/NewsAdminPage";
import { NewsEditorPage } from "./news/NewsEditorPage";
import { NEWS_MANAGE } from "./news/news";
import { SecurityPage } from "./security/SecurityPage";
import { BILLING_READ, useHasPermission } from "./subscribers/billing";
import { FindSubscriber } from "./subscribers/FindSubscriber";
import { SubscriberPage } from "./subscribers/SubscriberPage";
import { SlaSettingsPage } from "./tickets/SlaSettingsPage";
import { TicketQueuePage } from "./tickets/TicketQueuePage";
import { TicketViewPage } from "./tickets/TicketViewPage";
import "./console.css";

/** The ISP staff console, under /console on the tenant host. */
export function ConsoleArea() {
  const { t } = useTranslation();
  // Roles without billing access have nothing to open there, so the box is not offered to them.
  const mayFindSubscribers = useHasPermission(BILLING_READ);
  const mayReadOrders = useHasPermission(ORDERS_READ);
  const mayManageNews = useHasPermission(NEWS_MANAGE);
  const nav = (
    <>
      <NavLink to="/console/tickets" data-testid="nav-console-tickets">
        {t("console.nav.tickets")}
      </NavLink>
      {mayReadOrders && (
        <NavLink to="/console/orders" data-testid="nav-console-orders">
          {t("console.nav.orders")}
        </NavLink>
      )}
      {mayManageNews && (
        <NavLink to="/console/news" data-testid="nav-console-news">
          {t("console.nav.news")}
        </NavLink>
      )}
      {mayFindSubscribers && <FindSubscriber />}
    </>
  );
  return (
    <div className="console">
      <AppShell home="/console" area={t("console.title")} nav={nav} profile="/console/security">
        <Routes>
          {/* Reachable signed out: the way back into an account. */}
          <Route
            path="forgot-password"
            element={<ForgotPasswordPage audience="staff" signIn="/console" />}
          />
          <Route
            path="*"
            element={
              <SessionGate kind="staff" signIn={<StaffSignIn />}>
                <Routes>
                  <Route index element={<Navigate to="/console/tickets" replace />} />
                  <Route path="tickets" element={<TicketQueuePage />} />
                  <Route path="tickets/settings" element={<SlaSettingsPage />} />
                  <Route path="tickets/:id" element={<TicketViewPage />} />
                  <Route path="subscribers/:accountNumber" element={<SubscriberPage />} />
                  <Route path="orders" element={<OrderQueuePage />} />
                  <Route path="orders/:id" element={<OrderViewPage />} />
                  <Route path="news" element={<NewsAdminPage />} />
                  <Route path="news/:id" element={<NewsEditorPage />} />
                  <Route path="security" element={<SecurityPage />} />
                  <Route path="*" element={<NotFound home="/console" />} />
                </Routes>
              </SessionGate>
            }
          />
        </Routes>
      </AppShell>
    </div>
  );
}
