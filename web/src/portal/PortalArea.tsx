import { useTranslation } from "react-i18next";
import { ForgotPasswordPage } from "../shared/password/ForgotPasswordPage";
import { ResetPasswordPage } from "../shared/password/ResetPasswordPage";
import { NavLink, Route, Routes } from "react-router";
import { SessionGate } from "../shared/session/SessionGate";
import { AppShell } from "../shared/ui/AppShell";
import { NotFound } from "../shared/ui/NotFound";
import { AccountPage } from "./account/AccountPage";
import { SubscriberSignIn } from "./auth/SubscriberSignIn";
import { DashboardPage } from "./dashboard/DashboardPage";
import { EquipmentPage } from "./equipment/EquipmentPage";
import { OrderPage } from "./equipment/OrderPage";
import { KbArticlePage } from "./kb/KbArticlePage";
import { KbListPage } from "./kb/KbListPage";
import { MyNetworkPage } from "./network/NetworkPage";
import { NewsListPage } from "./news/NewsListPage";
import { NewsPostPage } from "./news/NewsPostPage";
import { NotificationBell } from "./notifications/NotificationBell";
import { PaymentsPage } from "./payments/PaymentsPage";
import { ProfilePage } from "./profile/ProfilePage";
import { StatementPage } from "./statement/StatementPage";
import { TariffPage } from "./tariff/TariffPage";
import { NewTicketPage } from "./tickets/NewTicketPage";
import { TicketListPage } from "./tickets/TicketListPage";
import { TicketPage } from "./tickets/TicketPage";

/** The subscriber's cabinet, served at the root of a tenant host. */
export function PortalArea() {
  const { t } = useTranslation();
  const nav = (
    <>
      <NavLink to="/" end data-testid="nav-overview">
        {t("portal.nav.overview")}
      </NavLink>
      <NavLink to="/tariff" data-testid="nav-tariff">
        {t("portal.nav.tariff")}
      </NavLink>
      <NavLink to="/account" data-testid="nav-account">
        {t("portal.nav.account")}
      </NavLink>
      <NavLink to="/payments" data-testid="nav-payments">
        {t("portal.nav.payments")}
      </NavLink>
      <NavLink to="/statement" data-testid="nav-statement">
        {t("portal.nav.statement")}
      </NavLink>
      <NavLink to="/equipment" data-testid="nav-equipment">
        {t("portal.nav.equipment")}
      </NavLink>
      <NavLink to="/news" data-testid="nav-news">
        {t("portal.nav.news")}
      </NavLink>
      <NavLink to="/network" data-testid="nav-network">
        {t("portal.nav.network")}
      </NavLink>
      <NavLink to="/tickets" data-testid="nav-tickets">
        {t("portal.nav.tickets")}
      </NavLink>
      <NavLink to="/kb" data-testid="nav-kb">
        {t("portal.nav.kb")}
      </NavLink>
    </>
  );
  return (
    <AppShell home="/" nav={nav} profile="/profile" tools={<NotificationBell />}>
      <Routes>
        {/* Reachable signed out: the way back into an account. */}
        <Route path="forgot-password" element={<ForgotPasswordPage audience="subscriber" signIn="/" />} />
        <Route path="reset-password" element={<ResetPasswordPage />} />
        <Route
          path="*"
          element={
            <SessionGate kind="subscriber" signIn={<SubscriberSignIn />}>
              <Routes>
                <Route index element={<DashboardPage />} />
                <Route path="tariff" element={<TariffPage />} />
                <Route path="account" element={<AccountPage />} />
                <Route path="network" element={<MyNetworkPage />} />
                <Route path="payments" element={<PaymentsPage />} />
                <Route path="statement" element={<StatementPage />} />
                <Route path="profile" element={<ProfilePage />} />
                <Route path="equipment" element={<EquipmentPage />} />
                <Route path="equipment/orders/:id" element={<OrderPage />} />
                <Route path="news" element={<NewsListPage />} />
                <Route path="news/:id" element={<NewsPostPage />} />
                <Route path="tickets" element={<TicketListPage />} />
                <Route path="tickets/new" element={<NewTicketPage />} />
                <Route path="tickets/:id" element={<TicketPage />} />
                <Route path="kb" element={<KbListPage />} />
                <Route path="kb/:id" element={<KbArticlePage />} />
                <Route path="*" element={<NotFound home="/" />} />
              </Routes>
            </SessionGate>
          }
        />
      </Routes>
    </AppShell>
  );
}
