import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { parseMajorAmount, type AmountProblem } from "../../shared/billing/amount";
import { amountProblemMessage } from "../../shared/billing/amountMessage";
import { checkLine, type LineProblem } from "../../shared/billing/line";
import { minorUnitDigits, useFormat } from "../../shared/i18n/format";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { useCorrectBalance, type BalanceChanged } from "./billing";

const REASON_MAX = 200;
const REFERENCE_MAX = 100;

/**
 * Corrects the balance: a credit (a goodwill gesture, a mistaken charge) or a debit, with a
 * reason the subscriber reads in their history and a reference that makes a resend harmless.
 */
export function CorrectionForm({
  accountNumber,
  currency,
  onCorrected,
}: {
  accountNumber: string;
  currency: string | undefined;
  onCorrected?: (result: BalanceChanged) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const id = useId();
  const correct = useCorrectBalance(accountNumber);
  const [direction, setDirection] = useState<"credit" | "debit">("credit");
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [reference, setReference] = useState("");
  const [amountProblem, setAmountProblem] = useState<AmountProblem>();
  const [reasonProblem, setReasonProblem] = useState<LineProblem>();
  const [referenceProblem, setReferenceProblem] = useState<LineProblem>();
  const digits = currency ? minorUnitDigits(currency) : 2;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (correct.isPending) return;
    const parsed = parseMajorAmount(amount, digits);
    const why = reason.trim();
    const ref = reference.trim();
    const whyProblem = checkLine(why, REASON_MAX);
    const refProblem = checkLine(ref, REFERENCE_MAX);
    setAmountProblem(parsed.ok ? undefined : parsed.problem);
    setReasonProblem(whyProblem);
    setReferenceProblem(refProblem);
    if (!parsed.ok || whyProblem || refProblem) {
      correct.reset();
      return;
    }
    const minor = direction === "credit" ? parsed.minor : -parsed.minor;
    correct.mutate(
      { amount_minor: minor, reason: why, reference: ref },
      {
        onSuccess: (result) => {
          if (result.created) {
            setAmount("");
            setReason("");
            setReference("");
          }
          onCorrected?.(result);
        },
      },
    );
  }

  const result = correct.data;
  return (
    <form className="form" onSubmit={submit} noValidate data-testid="correction-form">
      <h2>{t("console.correction.title")}</h2>
      <fieldset className="field segmented">
        <legend className="field__label">{t("console.correction.direction")}</legend>
        {(["credit", "debit"] as const).map((d) => (
          <label key={d} className="segmented__option">
            <input
              type="radio"
              name={`${id}-direction`}
              value={d}
              checked={direction === d}
              onChange={() => {
                setDirection(d);
              }}
              data-testid={`correction-${d}`}
            />
            {t(`console.correction.${d}`)}
          </label>
        ))}
      </fieldset>
      <div className="field">
        <label className="field__label" htmlFor={`${id}-amount`}>
          {currency
            ? t("console.payment.amount", { currency: format.currencySymbol(currency) })
            : t("console.payment.amountPlain")}
        </label>
        <input
          id={`${id}-amount`}
          type="text"
          inputMode="decimal"
          autoComplete="off"
          value={amount}
          aria-invalid={amountProblem ? true : undefined}
          aria-describedby={amountProblem ? `${id}-amount-error` : undefined}
          onChange={(e) => {
            setAmount(e.target.value);
            setAmountProblem(undefined);
          }}
          data-testid="correction-amount"
        />
        {amountProblem && (
          <p className="field__error" id={`${id}-amount-error`} data-testid="correction-amount-error">
            {amountProblemMessage(t, amountProblem, digits)}
          </p>
        )}
      </div>
      <div className="field">
        <label className="field__label" htmlFor={`${id}-reason`}>
          {t("console.correction.reason")}
        </label>
        <input
          id={`${id}-reason`}
          type="text"
          autoComplete="off"
          maxLength={REASON_MAX}
          value={reason}
          aria-invalid={reasonProblem ? true : undefined}
          aria-describedby={`${id}-reason-note`}
          onChange={(e) => {
            setReason(e.target.value);
            setReasonProblem(undefined);
          }}
          data-testid="correction-reason"
        />
        <p className={reasonProblem ? "field__error" : "field__hint"} id={`${id}-reason-note`}>
          {reasonProblem
            ? t(`console.correction.problems.${reasonProblem}`, { max: REASON_MAX })
            : t("console.correction.reasonHint")}
        </p>
      </div>
      <div className="field">
        <label className="field__label" htmlFor={`${id}-reference`}>
          {t("console.correction.reference")}
        </label>
        <input
          id={`${id}-reference`}
          type="text"
          autoComplete="off"
          maxLength={REFERENCE_MAX}
          value={reference}
          aria-invalid={referenceProblem ? true : undefined}
          aria-describedby={`${id}-reference-note`}
          onChange={(e) => {
            setReference(e.target.value);
            setReferenceProblem(undefined);
          }}
          data-testid="correction-reference"
        />
        <p className={referenceProblem ? "field__error" : "field__hint"} id={`${id}-reference-note`}>
          {referenceProblem
            ? t(`console.correction.problems.${referenceProblem}`, { max: REFERENCE_MAX })
            : t("console.correction.referenceHint")}
        </p>
      </div>
      {correct.isError && <ErrorNotice error={correct.error} />}
      {result && (
        <p
          className={result.created ? "notice notice--success" : "notice notice--warning"}
          role="status"
          data-testid="correction-result"
          data-created={String(result.created)}
        >
          {result.created
            ? t("console.correction.done", { balance: format.money(result.balance) })
            : t("console.correction.already")}
        </p>
      )}
      <div className="form__actions">
        <button
          type="submit"
          className="button button--block"
          disabled={correct.isPending}
          data-testid="correction-submit"
        >
          {t("console.correction.submit")}
        </button>
      </div>
    </form>
  );
}
