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
  return text;
}
