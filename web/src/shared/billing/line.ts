const CONTROL_CHARACTER = /\p{Cc}/u;

/** Why a one-line text field (a receipt number, a reason) cannot be sent as typed. */
export type LineProblem = "empty" | "tooLong" | "lines";

/**
 * Checks trimmed single-line text the way the API does: not empty, no control characters, at
 * most `max` code points (Rust chars, not UTF-16 code units).
 */
export function checkLine(text: string, max: number): LineProblem | undefined {
  if (text === "") return "empty";
  if (CONTROL_CHARACTER.test(text)) return "lines";
  if (Array.from(text).length > max) return "tooLong";
  return undefined;
}
