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

export type Money = Dashboard["account"]["balance"];
export type Dashboard = ApiData<"/me/dashboard", "get">;
export type Account = Dashboard["account"];
export type AccountStatus = Account["status"];

export type TicketSummary = ApiData<"/me/tickets", "get">["items"][number];
export type TicketDetail = ApiData<"/me/tickets/{id}", "get">;
export type TicketMessage = TicketDetail["messages"][number];
export type TicketStatus = TicketSummary["status"];
export type TicketCategory = TicketSummary["category"];

export type ConsoleTicketPage = ApiData<"/console/tickets", "get">;
export type ConsoleTicketSummary = ConsoleTicketPage["items"][number];
export type ConsoleTicketDetail = ApiData<"/console/tickets/{id}", "get">;

export type Movement = ApiData<"/me/ledger", "get">["items"][number];
export type MovementKind = Movement["kind"];
export type ManualPayment = ApiBody<"/console/subscribers/{account_number}/payments", "post">;
export type PaymentMethod = ManualPayment["method"];
export type PaymentRecorded = ApiData<"/console/subscribers/{account_number}/payments", "post">;
export type SubscriberLedger = ApiData<"/console/subscribers/{account_number}/ledger", "get">;

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

export type TenantSummary = ApiData<"/platform/tenants", "get">["items"][number];
export type TenantStatus = TenantSummary["status"];

// Enumerations the UI must list in full (selects, filters). Keyed records make the compiler
// complain here when the API adds or drops a value; the numbers are display order.
const CATEGORY_ORDER: Record<TicketCategory, number> = {
  connectivity: 0,
  speed: 1,
  payments: 2,
  tariff: 3,
  addons: 4,
  equipment: 5,
  complaint: 6,
  account_security: 7,
  other: 8,
};
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

function ordered<K extends string>(order: Record<K, number>): readonly K[] {
  return (Object.keys(order) as K[]).sort((a, b) => order[a] - order[b]);
}

export const TICKET_CATEGORIES = ordered(CATEGORY_ORDER);
export const TICKET_STATUSES = ordered(STATUS_ORDER);
export const PAYMENT_METHODS = ordered(PAYMENT_METHOD_ORDER);
