import { useTranslation } from "react-i18next";
import { NavLink, Route, Routes } from "react-router";
import { SessionGate } from "../shared/session/SessionGate";
import { AppShell } from "../shared/ui/AppShell";
import { NotFound } from "../shared/ui/NotFound";
import { AccountPage } from "./account/AccountPage";
import { SubscriberSignIn } from "./auth/SubscriberSignIn";
import { DashboardPage } from "./dashboard/DashboardPage";
import { PaymentsPage } from "./payments/PaymentsPage";
import { ProfilePage } from "./profile/ProfilePage";
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
      <NavLink to="/tickets" data-testid="nav-tickets">
        {t("portal.nav.tickets")}
      </NavLink>
    </>
  );
  return (
    <AppShell home="/" nav={nav} profile="/profile">
      <SessionGate kind="subscriber" signIn={<SubscriberSignIn />}>
        <Routes>
          <Route index element={<DashboardPage />} />
          <Route path="tariff" element={<TariffPage />} />
          <Route path="account" element={<AccountPage />} />
          <Route path="payments" element={<PaymentsPage />} />
          <Route path="profile" element={<ProfilePage />} />
          <Route path="tickets" element={<TicketListPage />} />
          <Route path="tickets/new" element={<NewTicketPage />} />
          <Route path="tickets/:id" element={<TicketPage />} />
          <Route path="*" element={<NotFound home="/" />} />
        </Routes>
      </SessionGate>
    </AppShell>
  );
}
