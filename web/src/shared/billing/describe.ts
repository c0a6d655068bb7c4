import type { TFunction } from "i18next";
import type { Movement } from "../../api/types";

// The API describes movements in fixed English phrases. The ones it writes itself are shown in
// the visitor's language; anything else (a correction's note) is shown as written.
const PAYMENT_VIA = {
  "Payment in cash": "cash",
  "Payment by bank transfer": "bank_transfer",
  "Payment by card": "card",
} as const;
const TARIFF_CHARGE = /^Tariff (.+), (\d{4}-\d{2})$/;

function isPaymentPhrase(text: string): text is keyof typeof PAYMENT_VIA {
  return Object.hasOwn(PAYMENT_VIA, text);
}

/** The detail line under a movement's kind, or undefined when the kind says it all. */
export function describeMovement(
  movement: Movement,
  t: TFunction,
  month: (yearMonth: string) => string,
): string | undefined {
  const text = movement.description.trim();
  if (text === "" || (movement.kind === "opening_balance" && text === "Opening balance")) return undefined;
  if (isPaymentPhrase(text)) return t(`billing.via.${PAYMENT_VIA[text]}`);
  const charge = TARIFF_CHARGE.exec(text);
  if (charge?.[1] && charge[2]) return t("billing.tariffCharge", { tariff: charge[1], period: month(charge[2]) });
  return text;
}
