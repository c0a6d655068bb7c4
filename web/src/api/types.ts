// Names for the shapes the UI talks about, derived from *paths* rather than from
// `components["schemas"]` so that the backend may rename its schemas without breaking the web.
import type { paths } from "./schema";

type SuccessStatus = 200 | 201;
type SuccessBody<Operation> = Operation extends { responses: infer R }
  ? {
      [S in keyof R & SuccessStatus]: R[S] extends { content: infer C } ? C[keyof C] : never;
    }[keyof R & SuccessStatus]
  : never;

/** The JSON body of a path's success answer, whatever media type string the spec uses. */
type ApiData<P extends keyof paths, M extends keyof paths[P]> = SuccessBody<paths[P][M]>;

/** The JSON body a path's operation takes, whatever media type string the spec uses. */
type ApiBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: infer C };
}
  ? C[keyof C]
  : never;

export type Site = ApiData<"/site", "get">;
export type Branding = NonNullable<Site["branding"]>;
export type Locale = Branding["default_locale"];
export type SessionInfo = ApiData<"/session", "get">;
export type PrincipalKind = SessionInfo["kind"];
/** A password step's answer: a session (`signed_in`) or a challenge (`second_factor_required`). */
export type LoginResult = ApiData<"/auth/subscriber/login", "post">;
export type SecondFactorChallenge = Extract<LoginResult, { outcome: "second_factor_required" }>;
export type ResetAudience = ApiBody<"/auth/password-reset", "post">["audience"];
export type PasswordResetDone = ApiData<"/auth/password-reset/complete", "post">;
export type TwoFactorStatus = ApiData<"/me/two-factor", "get">;
export type TwoFactorEnrollment = ApiData<"/me/two-factor/enrollment", "post">;
export type RecoveryCodes = ApiData<"/me/two-factor/confirm", "post">;

export type Money = Dashboard["account"]["balance"];
export type Dashboard = ApiData<"/me/dashboard", "get">;
export type Account = Dashboard["account"];
export type AccountStatus = Account["status"];

export type TicketSummary = ApiData<"/me/tickets", "get">["items"][number];
export type TicketDetail = ApiData<"/me/tickets/{id}", "get">;
export type TicketMessage = TicketDetail["messages"][number];
export type TicketStatus = TicketSummary["status"];
export type TicketCategory = TicketSummary["category"];
export type ConsoleTicketCategory = ApiData<"/console/ticket-categories", "get">["items"][number];
export type TicketCategoryKind = ConsoleTicketCategory["kind"];

export type ConsoleTicketPage = ApiData<"/console/tickets", "get">;
export type ConsoleTicketSummary = ConsoleTicketPage["items"][number];
export type ConsoleTicketDetail = ApiData<"/console/tickets/{id}", "get">;
export type TicketPriority = ConsoleTicketSummary["priority"];
export type TicketNote = ConsoleTicketDetail["notes"][number];
export type TicketEvent = ConsoleTicketDetail["events"][number];
export type TicketAgent = ApiData<"/console/ticket-agents", "get">["items"][number];
export type TicketSettings = ApiBody<"/console/ticket-settings", "put">;
export type TicketSettingsView = ApiData<"/console/ticket-settings", "get">;

export type Movement = ApiData<"/me/ledger", "get">["items"][number];
export type MovementKind = Movement["kind"];
export type ManualPayment = ApiBody<"/console/subscribers/{account_number}/payments", "post">;
export type PaymentMethod = ManualPayment["method"];
export type PaymentRecorded = ApiData<"/console/subscribers/{account_number}/payments", "post">;
export type SubscriberLedger = ApiData<"/console/subscribers/{account_number}/ledger", "get">;
export type SubscriberView = ApiData<"/console/subscribers/{account_number}", "get">;
export type NewSubscriber = ApiBody<"/console/subscribers", "post">;
export type SubscriberUpdate = ApiBody<"/console/subscribers/{account_number}", "put">;
export type ImportResult = ApiData<"/console/subscribers/import", "post">;
export type ImportProblem = ImportResult["errors"][number];
export type ImportEncoding = NonNullable<
  NonNullable<paths["/console/subscribers/import"]["post"]["parameters"]["query"]>["encoding"]
>;
export type CorrectionRequest = ApiBody<"/console/subscribers/{account_number}/corrections", "post">;
export type BalanceChanged = ApiData<"/console/subscribers/{account_number}/corrections", "post">;

export type TariffCatalogue = ApiData<"/me/tariffs", "get">;
export type TariffOffer = TariffCatalogue["items"][number];
export type TariffChangeRule = TariffCatalogue["rule"];
export type TariffChangeResult = ApiData<"/me/tariff", "post">;
export type AccountOptions = ApiData<"/me/account-options", "get">;
export type PromisedPayment = NonNullable<AccountOptions["open_promised_payment"]>;
export type Suspension = NonNullable<AccountOptions["suspension"]>;

export type PaymentOptions = ApiData<"/me/payment-options", "get">;
export type Autopay = PaymentOptions["autopay"];
export type SavedCard = NonNullable<Autopay["card"]>;
export type OnlinePayment = ApiData<"/me/payments/online/{id}", "get">;
export type OnlinePaymentStatus = OnlinePayment["status"];
export type OnlinePaymentPurpose = OnlinePayment["purpose"];

export type MySession = ApiData<"/me/sessions", "get">["items"][number];
export type PasswordChanged = ApiData<"/me/password", "post">;

export type EquipmentOffer = ApiData<"/me/equipment", "get">["items"][number];
export type EquipmentKind = EquipmentOffer["kind"];
export type EquipmentQuote = ApiData<"/me/equipment/{code}/quote", "get">;
export type OrderMode = EquipmentQuote["mode"];
export type EquipmentOrderRequest = ApiBody<"/me/equipment-orders", "post">;
export type EquipmentOrder = ApiData<"/me/equipment-orders", "get">["items"][number];
export type EquipmentOrderDetail = ApiData<"/me/equipment-orders/{id}", "get">;
export type OrderStep = EquipmentOrderDetail["history"][number];
export type OrderStatus = EquipmentOrder["status"];
export type ConsoleEquipmentOrder = ApiData<"/console/equipment-orders", "get">["items"][number];
export type ConsoleEquipmentOrderDetail = ApiData<"/console/equipment-orders/{id}", "get">;
export type OrderStatusChanged = ApiData<"/console/equipment-orders/{id}/status", "post">;

export type NewsItem = ApiData<"/me/news", "get">["items"][number];
export type NewsKind = NewsItem["kind"];
export type ConsoleNewsItem = ApiData<"/console/news/{id}", "get">;
export type NewsState = ConsoleNewsItem["state"];
export type NewsInput = ApiBody<"/console/news", "post">;
export type NewsTarget = ApiData<"/console/news/tariffs", "get">["tariffs"][number];

export type TenantSummary = ApiData<"/platform/tenants", "get">["items"][number];
export type TenantStatus = TenantSummary["status"];
export type TenantRow = TenantSummary;
export type Onboarding = ApiData<"/console/onboarding", "get">;
export type ChecklistStep = Onboarding["items"][number]["step"];

// Enumerations the UI must list in full (selects, filters). Keyed records make the compiler
// complain here when the API adds or drops a value; the numbers are display order.
const STATUS_ORDER: Record<TicketStatus, number> = {
  new: 0,
  open: 1,
  waiting_on_customer: 2,
  resolved: 3,
  closed: 4,
};

const PAYMENT_METHOD_ORDER: Record<PaymentMethod, number> = {
  cash: 0,
  bank_transfer: 1,
};

const ORDER_STATUS_ORDER: Record<OrderStatus, number> = {
  new: 0,
  confirmed: 1,
  delivered: 2,
  installed: 3,
  cancelled: 4,
  returned: 5,
};

function ordered<K extends string>(order: Record<K, number>): readonly K[] {
  return (Object.keys(order) as K[]).sort((a, b) => order[a] - order[b]);
}

/** The nine categories every ISP has (it may rename, reorder and add to them: see
 * `useTicketCategories`); their names are the app's own translations. */
export const BUILT_IN_CATEGORIES = [
  "connectivity",
  "speed",
  "payments",
  "tariff",
  "addons",
  "equipment",
  "complaint",
  "account_security",
  "other",
] as const;
export type BuiltInCategory = (typeof BUILT_IN_CATEGORIES)[number];
export const TICKET_STATUSES = ordered(STATUS_ORDER);
export const PAYMENT_METHODS = ordered(PAYMENT_METHOD_ORDER);
export const ORDER_STATUSES = ordered(ORDER_STATUS_ORDER);
export type BrandingSettings = ApiData<"/console/settings/branding", "get">;
export type CardPayments = ApiData<"/console/settings/payments", "get">;

// Operator support visits (impersonation).
export type ImpersonationVisit = ApiData<"/console/impersonations", "get">["items"][number];
export type VisitBanner = NonNullable<SessionInfo["impersonation"]>;
export type VisitAccess = VisitBanner["access"];
