import type { TFunction } from "i18next";
import type { AmountProblem } from "./amount";

/**
 * What to say about an amount that did not parse. `digits` is the currency's number of decimals;
 * `max`, when given, is the formatted upper bound named by "too large".
 */
export function amountProblemMessage(t: TFunction, problem: AmountProblem, digits: number, max?: string): string {
  switch (problem) {
    case "decimals":
      return digits === 0 ? t("billing.amountProblems.decimalsNone") : t("billing.amountProblems.decimals", { count: digits });
    case "tooLarge":
      return max === undefined ? t("billing.amountProblems.tooLarge") : t("billing.amountProblems.tooLargeMax", { max });
    default:
      return t(`billing.amountProblems.${problem}`);
  }
}
