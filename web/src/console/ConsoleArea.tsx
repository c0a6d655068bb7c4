import { useTranslation } from "react-i18next";
import { Navigate, NavLink, Route, Routes } from "react-router";
import { SessionGate } from "../shared/session/SessionGate";
import { AppShell } from "../shared/ui/AppShell";
import { NotFound } from "../shared/ui/NotFound";
import { StaffSignIn } from "./auth/StaffSignIn";
import { BILLING_READ, useHasPermission } from "./subscribers/billing";
import { FindSubscriber } from "./subscribers/FindSubscriber";
import { SubscriberPage } from "./subscribers/SubscriberPage";
import { TicketQueuePage } from "./tickets/TicketQueuePage";
import { TicketViewPage } from "./tickets/TicketViewPage";
import "./console.css";

/** The ISP staff console, under /console on the tenant host. */
export function ConsoleArea() {
  const { t } = useTranslation();
  // Roles without billing access have nothing to open there, so the box is not offered to them.
  const mayFindSubscribers = useHasPermission(BILLING_READ);
  const nav = (
    <>
      <NavLink to="/console/tickets" data-testid="nav-console-tickets">
        {t("console.nav.tickets")}
      </NavLink>
      {mayFindSubscribers && <FindSubscriber />}
    </>
  );
  return (
    <div className="console">
      <AppShell home="/console" area={t("console.title")} nav={nav}>
        <SessionGate kind="staff" signIn={<StaffSignIn />}>
          <Routes>
            <Route index element={<Navigate to="/console/tickets" replace />} />
            <Route path="tickets" element={<TicketQueuePage />} />
            <Route path="tickets/:id" element={<TicketViewPage />} />
            <Route path="subscribers/:accountNumber" element={<SubscriberPage />} />
            <Route path="*" element={<NotFound home="/console" />} />
          </Routes>
        </SessionGate>
      </AppShell>
    </div>
  );
}
