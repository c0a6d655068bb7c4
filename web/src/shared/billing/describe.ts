import type { TFunction } from "i18next";
import type { Movement } from "../../api/types";

// The API describes movements in fixed English phrases. The ones it writes itself are shown in
// the visitor's language; anything else (a correction's note) is shown as written.
const PAYMENT_VIA = {
  "Payment in cash": "cash",
  "Payment by bank transfer": "bank_transfer",
  "Payment by card": "card",
} as const;
const FIXED = {
  "Promised payment repaid": "promisedRepaid",
  "Promised payment ended": "promisedEnded",
  "Voluntary suspension fee": "suspensionFee",
} as const;
const TARIFF_CHARGE = /^Tariff (.+), (\d{4}-\d{2})$/;
const PROMISED_UNTIL = /^Promised payment until (\d{4}-\d{2}-\d{2})$/;
// "Tariff change to Fiber 300 from 2026-11-25: 12.00 EUR for the new tariff, 20.00 EUR back for
// the old": the amounts are the movement's own, so the name and the day say enough.
const TARIFF_CHANGE = /^Tariff change to (.+) from (\d{4}-\d{2}-\d{2}):/;
// Equipment orders: "Purchase: <item>, order 12", "Rent: <item>, 2026-11 (from 2026-11-16), order
// 12", "Rent: <item>, 2026-12, order 12", the unused days of a returned rental, a cancellation.
const PURCHASE = /^Purchase: (.+), order (\d+)$/;
const RENT_FROM = /^Rent: (.+), (\d{4}-\d{2}) \(from (\d{4}-\d{2}-\d{2})\), order (\d+)$/;
const RENT = /^Rent: (.+), (\d{4}-\d{2}), order (\d+)$/;
const RENT_RETURNED = /^Rent: (.+), unused days of (\d{4}-\d{2}), order (\d+) returned$/;
const ORDER_CANCELLED = /^Reversal of “.*”: order (\d+) cancelled(?::.*)?$/s;

function isPaymentPhrase(text: string): text is keyof typeof PAYMENT_VIA {
  return Object.hasOwn(PAYMENT_VIA, text);
}
function isFixedPhrase(text: string): text is keyof typeof FIXED {
  return Object.hasOwn(FIXED, text);
}

export interface DescribeFormat {
  /** "2026-11" → the month in words. */
  month: (yearMonth: string) => string;
  /** "2026-11-28" → the day in words. */
  day: (ymd: string) => string;
}

/** The detail line under a movement's kind, or undefined when the kind says it all. */
export function describeMovement(movement: Movement, t: TFunction, format: DescribeFormat): string | undefined {
  const text = movement.description.trim();
  if (text === "" || (movement.kind === "opening_balance" && text === "Opening balance")) return undefined;
  if (isPaymentPhrase(text)) return t(`billing.via.${PAYMENT_VIA[text]}`);
  if (isFixedPhrase(text)) return t(`billing.described.${FIXED[text]}`);
  const charge = TARIFF_CHARGE.exec(text);
  if (charge?.[1] && charge[2]) return t("billing.tariffCharge", { tariff: charge[1], period: format.month(charge[2]) });
  const promised = PROMISED_UNTIL.exec(text);
  if (promised?.[1]) return t("billing.described.promisedUntil", { date: format.day(promised[1]) });
  const change = TARIFF_CHANGE.exec(text);
  if (change?.[1] && change[2]) return t("billing.described.tariffChange", { tariff: change[1], date: format.day(change[2]) });
  return describeEquipment(text, t, format) ?? text;
}

function describeEquipment(text: string, t: TFunction, format: DescribeFormat): string | undefined {
  const purchase = PURCHASE.exec(text);
  if (purchase?.[1] && purchase[2]) return t("billing.described.purchase", { name: purchase[1], number: purchase[2] });
  const from = RENT_FROM.exec(text);
  if (from?.[1] && from[2] && from[3] && from[4]) {
    return t("billing.described.rentFrom", {
      name: from[1],
      period: format.month(from[2]),
      date: format.day(from[3]),
      number: from[4],
    });
  }
  const returned = RENT_RETURNED.exec(text);
  if (returned?.[1] && returned[2] && returned[3]) {
    return t("billing.described.rentReturned", {
      name: returned[1],
      period: format.month(returned[2]),
      number: returned[3],
    });
  }
  const rent = RENT.exec(text);
  if (rent?.[1] && rent[2] && rent[3]) {
    return t("billing.described.rent", { name: rent[1], period: format.month(rent[2]), number: rent[3] });
  }
  const cancelled = ORDER_CANCELLED.exec(text);
  if (cancelled?.[1]) return t("billing.described.orderCancelled", { number: cancelled[1] });
  return undefined;
}
