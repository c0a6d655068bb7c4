/**
 * Turns an amount typed in major units ("500", "500,50", "500.5", "1 500,50") into integer
 * minor units, exactly: the digits are taken as digits, never through a binary float, so
 * "0,29" is 29 and never 28.999….
 */

/** The API's upper bound for one payment, in minor units. */
export const MAX_PAYMENT_MINOR = 100_000_000_000;

export type AmountProblem = "empty" | "format" | "decimals" | "zero" | "tooLarge";

export type ParsedAmount = { ok: true; minor: number } | { ok: false; problem: AmountProblem };

// Spaces people type (or paste) between groups of thousands: space, no-break and narrow no-break.
const GROUP_SEPARATORS = /[ \u00a0\u202f]/g;

export function parseMajorAmount(input: string, fractionDigits = 2, max = MAX_PAYMENT_MINOR): ParsedAmount {
  const text = input.trim();
  if (text === "") return { ok: false, problem: "empty" };
  // Groups of three only: "1 500" yes, "15 00" no (a typo, not a number we should guess at).
  if (!/^\d{1,3}([ \u00a0\u202f]\d{3})*([.,]\d*)?$/.test(text) && !/^\d+([.,]\d*)?$/.test(text)) {
    return { ok: false, problem: "format" };
  }
  const [whole = "", fraction = ""] = text.replace(GROUP_SEPARATORS, "").split(/[.,]/);
  if (fraction.length > fractionDigits) return { ok: false, problem: "decimals" };
  // Leading zeros do not count; longer than the maximum has digits means too large, whatever they are.
  const digits = (whole.replace(/^0+/, "") + fraction.padEnd(fractionDigits, "0")).replace(/^0+/, "");
  if (digits === "") return { ok: false, problem: "zero" };
  if (digits.length > String(max).length) return { ok: false, problem: "tooLarge" };
  // At most 12 digits here, far below 2^53: Number holds it exactly.
  const minor = Number(digits);
  if (minor > max) return { ok: false, problem: "tooLarge" };
  return { ok: true, minor };
}
