import { useTranslation } from "react-i18next";
import { Navigate, NavLink, Route, Routes } from "react-router";
import { ForgotPasswordPage } from "../shared/password/ForgotPasswordPage";
import { SessionGate } from "../shared/session/SessionGate";
import { AppShell } from "../shared/ui/AppShell";
import { NotFound } from "../shared/ui/NotFound";
import { useSite } from "../shared/site/site";
import { ConfirmSignupPage } from "./onboarding/ConfirmSignupPage";
import { OnboardingPage } from "./onboarding/OnboardingPage";
import { AttachmentSettingsPage } from "./settings/AttachmentSettingsPage";
import { BrandingPage } from "./settings/BrandingPage";
import { CardPaymentsPage } from "./settings/CardPaymentsPage";
import { SettingsPage } from "./settings/SettingsPage";
import { TicketCategoriesPage } from "./settings/TicketCategoriesPage";
import { DomainsPage } from "./domains/DomainsPage";
import { AuditPage } from "./audit/AuditPage";
import { AUDIT_READ } from "./audit/audit";
import { EnterImpersonationPage } from "./impersonation/EnterImpersonationPage";
import { ImpersonationBanner } from "./impersonation/ImpersonationBanner";
import { ImpersonationsPage } from "./impersonation/ImpersonationsPage";
import { StaffSignIn } from "./auth/StaffSignIn";
import { OrderQueuePage } from "./equipment/OrderQueuePage";
import { OrderViewPage } from "./equipment/OrderViewPage";
import { ORDERS_READ } from "./equipment/orders";
import { IncidentPage } from "./incidents/IncidentPage";
import { IncidentsPage } from "./incidents/IncidentsPage";
import { INCIDENTS_READ } from "./incidents/incidents";
import { CannedRepliesPage } from "./canned/CannedRepliesPage";
import { CANNED_MANAGE } from "./canned/canned";
import { KbAdminPage } from "./kb/KbAdminPage";
import { KbEditorPage } from "./kb/KbEditorPage";
import { KB_MANAGE } from "./kb/kb";
import { LettersPage } from "./letters/LettersPage";
import { NetworkPage } from "./network/NetworkPage";
import { NETWORK_READ } from "./network/network";
import { CataloguePage } from "./catalogue/CataloguePage";
import { CATALOGUE_MANAGE } from "./catalogue/catalogue";
import { NewsAdminPage } from "./news/NewsAdminPage";
import { NewsEditorPage } from "./news/NewsEditorPage";
import { NEWS_MANAGE } from "./news/news";
import { PlanBanner } from "./plan/PlanBanner";
import { PlanPage } from "./plan/PlanPage";
import { SecurityPage } from "./security/SecurityPage";
import { AcceptInvitePage } from "./staff/AcceptInvitePage";
import { StaffPage } from "./staff/StaffPage";
import { STAFF_MANAGE } from "./staff/staff";
import { BILLING_READ, useHasPermission } from "./subscribers/billing";
import { FindSubscriber } from "./subscribers/FindSubscriber";
import { ImportPage } from "./subscribers/ImportPage";
import { SubscriberListPage } from "./subscribers/SubscriberListPage";
import { SUBSCRIBERS_READ } from "./subscribers/subscribers";
import { SubscriberPage } from "./subscribers/SubscriberPage";
import { SlaSettingsPage } from "./tickets/SlaSettingsPage";
import { AgentGroupsPage } from "./assignment/AgentGroupsPage";
import { ShiftSchedulesPage } from "./assignment/ShiftSchedulesPage";
import { AnalyticsPage } from "./analytics/AnalyticsPage";
import { ANALYTICS_READ } from "./analytics/analytics";
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
  const mayManageCatalogue = useHasPermission(CATALOGUE_MANAGE);
  const mayManageKb = useHasPermission(KB_MANAGE);
  const mayManageCanned = useHasPermission(CANNED_MANAGE);
  const mayReadNetwork = useHasPermission(NETWORK_READ);
  const mayReadIncidents = useHasPermission(INCIDENTS_READ);
  const maySearchSubscribers = useHasPermission(SUBSCRIBERS_READ);
  const mayManageStaff = useHasPermission(STAFF_MANAGE);
  const mayReadAudit = useHasPermission(AUDIT_READ);
  const mayReadAnalytics = useHasPermission(ANALYTICS_READ);
  // A new ISP's portal is closed to subscribers until published: the checklist stays in reach.
  const unpublished = useSite().data?.published === false;
  const nav = (
    <>
      {unpublished && (
        <NavLink to="/console/onboarding" data-testid="nav-console-onboarding">
          {t("console.nav.onboarding")}
        </NavLink>
      )}
      <NavLink to="/console/tickets" data-testid="nav-console-tickets">
        {t("console.nav.tickets")}
      </NavLink>
      {mayReadIncidents && (
        <NavLink to="/console/incidents" data-testid="nav-console-incidents">
          {t("incidents.nav")}
        </NavLink>
      )}
      {mayReadAnalytics && (
        <NavLink to="/console/analytics" data-testid="nav-console-analytics">
          {t("insights.nav")}
        </NavLink>
      )}
      {maySearchSubscribers && (
        <NavLink to="/console/subscribers" end={false} data-testid="nav-console-subscribers">
          {t("console.nav.subscribers")}
        </NavLink>
      )}
      {mayReadOrders && (
        <NavLink to="/console/orders" data-testid="nav-console-orders">
          {t("console.nav.orders")}
        </NavLink>
      )}
      {mayManageCatalogue && (
        <NavLink to="/console/catalogue" end={false} data-testid="nav-console-catalogue">
          {t("catalogue.nav")}
        </NavLink>
      )}
      {mayManageNews && (
        <NavLink to="/console/news" data-testid="nav-console-news">
          {t("console.nav.news")}
        </NavLink>
      )}
      {mayManageKb && (
        <NavLink to="/console/kb" data-testid="nav-console-kb">
          {t("console.nav.kb")}
        </NavLink>
      )}
      {mayManageCanned && (
        <NavLink to="/console/canned-replies" data-testid="nav-console-canned">
          {t("ticketTools.canned.nav")}
        </NavLink>
      )}
      {mayReadNetwork && (
        <NavLink to="/console/network" data-testid="nav-console-network">
          {t("console.nav.network")}
        </NavLink>
      )}
      {mayManageStaff && (
        <NavLink to="/console/staff" data-testid="nav-console-staff">
          {t("console.nav.staff")}
        </NavLink>
      )}
      {mayReadAudit && (
        <NavLink to="/console/audit" data-testid="nav-console-audit">
          {t("console.nav.audit")}
        </NavLink>
      )}
      <NavLink to="/console/settings" end data-testid="nav-console-settings">
        {t("settingsHub.nav")}
      </NavLink>
      {mayFindSubscribers && <FindSubscriber />}
    </>
  );
  return (
    <div className="console">
      <ImpersonationBanner />
      <AppShell home="/console" area={t("console.title")} nav={nav} profile="/console/security">
        <Routes>
          {/* Reachable signed out: the way back into an account. */}
          <Route
            path="forgot-password"
            element={<ForgotPasswordPage audience="staff" signIn="/console" />}
          />
          <Route path="confirm" element={<ConfirmSignupPage />} />
          <Route path="invite" element={<AcceptInvitePage />} />
          <Route path="impersonate" element={<EnterImpersonationPage />} />
          <Route
            path="*"
            element={
              <SessionGate kind="staff" signIn={<StaffSignIn />}>
                <PlanBanner />
                <Routes>
                  <Route index element={<Navigate to="/console/tickets" replace />} />
                  <Route path="tickets" element={<TicketQueuePage />} />
                  <Route path="tickets/settings" element={<SlaSettingsPage />} />
                  <Route path="tickets/groups" element={<AgentGroupsPage />} />
                  <Route path="tickets/shifts" element={<ShiftSchedulesPage />} />
                  <Route path="tickets/:id" element={<TicketViewPage />} />
                  <Route path="analytics" element={<AnalyticsPage />} />
                  <Route path="subscribers" element={<SubscriberListPage />} />
                  <Route path="subscribers/import" element={<ImportPage />} />
                  <Route path="subscribers/:accountNumber" element={<SubscriberPage />} />
                  <Route path="orders" element={<OrderQueuePage />} />
                  <Route path="orders/:id" element={<OrderViewPage />} />
                  <Route path="catalogue" element={<CataloguePage />} />
                  <Route path="catalogue/:tab" element={<CataloguePage />} />
                  <Route path="news" element={<NewsAdminPage />} />
                  <Route path="news/:id" element={<NewsEditorPage />} />
                  <Route path="kb" element={<KbAdminPage />} />
                  <Route path="kb/:id" element={<KbEditorPage />} />
                  <Route path="canned-replies" element={<CannedRepliesPage />} />
                  <Route path="network" element={<NetworkPage />} />
                  <Route path="incidents" element={<IncidentsPage />} />
                  <Route path="incidents/:id" element={<IncidentPage />} />
                  <Route path="onboarding" element={<OnboardingPage />} />
                  <Route path="settings" element={<SettingsPage />} />
                  <Route path="settings/branding" element={<BrandingPage />} />
                  <Route path="settings/payments" element={<CardPaymentsPage />} />
                  <Route path="settings/domains" element={<DomainsPage />} />
                  <Route path="settings/letters" element={<LettersPage />} />
                  <Route path="settings/attachments" element={<AttachmentSettingsPage />} />
                  <Route path="settings/ticket-categories" element={<TicketCategoriesPage />} />
                  <Route path="security" element={<SecurityPage />} />
                  <Route path="staff" element={<StaffPage />} />
                  <Route path="audit" element={<AuditPage />} />
                  <Route path="impersonations" element={<ImpersonationsPage />} />
                  <Route path="plan" element={<PlanPage />} />
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
