import { parseMajorAmount, type ParsedAmount } from "../../shared/billing/amount";

/**
 * Minor units back into what a person would type: 55000 → "550", 55050 → "550,50" (the
 * language's decimal separator), −12000 → "-120". Integer arithmetic only, no floats.
 */
export function minorToInput(minor: number, digits: number, decimalSeparator: string): string {
  const sign = minor < 0 ? "-" : "";
  const text = String(Math.abs(minor)).padStart(digits + 1, "0");
  const whole = digits === 0 ? text : text.slice(0, -digits);
  const fraction = digits === 0 ? "" : text.slice(-digits);
  return /^0*$/.test(fraction) ? sign + whole : `${sign}${whole}${decimalSeparator}${fraction}`;
}

/** The decimal separator the language writes ("," in Russian, "." in English). */
export function decimalSeparator(locale: string): string {
  return new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
}

/**
 * Like `parseMajorAmount`, for a bound that may be zero or below zero (an auto-pay threshold:
 * "top up when the balance falls below −100"). A leading minus or a typographic minus is taken.
 */
export function parseSignedMajorAmount(input: string, digits: number, max: number): ParsedAmount {
  const text = input.trim();
  const negative = /^[-\u2212]/.test(text);
  const parsed = parseMajorAmount(negative ? text.slice(1).trimStart() : text, digits, max);
  if (!parsed.ok) return parsed.problem === "zero" ? { ok: true, minor: 0 } : parsed;
  return { ok: true, minor: negative ? -parsed.minor : parsed.minor };
}

/**
 * Suggested top-up amounts in minor units: the next monthly charge when there is one, then the
 * two round sums (1, 2, 5 × 10ⁿ) above it, all within the ISP's limits.
 */
export function quickAmounts(nextCharge: number | undefined, digits: number, min: number, max: number): number[] {
  const unit = 10 ** digits;
  const base = nextCharge && nextCharge > 0 ? nextCharge : 100 * unit;
  const round: number[] = [];
  for (let power = unit; round.length < 2 && power <= max; power *= 10) {
    for (const step of [1, 2, 5]) {
      const value = step * power;
      if (value > base && round.length < 2) round.push(value);
    }
  }
  const amounts = nextCharge && nextCharge > 0 ? [nextCharge, ...round] : [base, ...round];
  return [...new Set(amounts)].filter((a) => a >= min && a <= max);
}

/** An amount as short as it can be said: "550 ₽" when whole, "550,50 ₽" otherwise. */
export function formatShortMoney(minor: number, currency: string, digits: number, locale: string): string {
  const whole = minor % 10 ** digits === 0;
  return new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    currencyDisplay: "narrowSymbol",
    minimumFractionDigits: whole ? 0 : digits,
    maximumFractionDigits: whole ? 0 : digits,
  }).format(minor / 10 ** digits);
}
