import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { PAYMENT_METHODS, type PaymentMethod, type PaymentRecorded } from "../../api/types";
import { parseMajorAmount, type AmountProblem } from "../../shared/billing/amount";
import { amountProblemMessage } from "../../shared/billing/amountMessage";
import { checkLine, type LineProblem } from "../../shared/billing/line";
import { ACCOUNT_STATUS_TONE } from "../../shared/billing/status";
import { minorUnitDigits, useFormat } from "../../shared/i18n/format";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { useRecordPayment } from "./billing";

const REFERENCE_MAX = 100;
const REFERENCE_PROBLEM = { empty: "referenceEmpty", tooLong: "referenceTooLong", lines: "referenceLines" } as const;
type ReferenceProblem = (typeof REFERENCE_PROBLEM)[LineProblem];

function checkReference(reference: string): ReferenceProblem | undefined {
  const problem = checkLine(reference, REFERENCE_MAX);
  return problem && REFERENCE_PROBLEM[problem];
}

/**
 * Records a payment taken at the office or by bank transfer. The amount is typed in major
 * units and sent as exact minor units; the reference makes a repeated submit harmless.
 */
export function PaymentForm({
  accountNumber,
  currency,
  onRecorded,
}: {
  accountNumber: string;
  /** The account's currency when known (from its movements); decides the decimals allowed. */
  currency: string | undefined;
  onRecorded?: (result: PaymentRecorded) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const id = useId();
  const record = useRecordPayment(accountNumber);
  const [amount, setAmount] = useState("");
  const [method, setMethod] = useState<PaymentMethod>("cash");
  const [reference, setReference] = useState("");
  const [amountProblem, setAmountProblem] = useState<AmountProblem>();
  const [referenceProblem, setReferenceProblem] = useState<ReferenceProblem>();
  const digits = currency ? minorUnitDigits(currency) : 2;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (record.isPending) return;
    const parsed = parseMajorAmount(amount, digits);
    const ref = reference.trim();
    const refProblem = checkReference(ref);
    setAmountProblem(parsed.ok ? undefined : parsed.problem);
    setReferenceProblem(refProblem);
    if (!parsed.ok || refProblem) {
      record.reset();
      return;
    }
    record.mutate(
      { amount_minor: parsed.minor, method, reference: ref },
      {
        onSuccess: (result) => {
          if (result.created) {
            setAmount("");
            setReference("");
          }
          onRecorded?.(result);
        },
      },
    );
  }

  const result = record.data;

  return (
    <form className="form payment-form" onSubmit={submit} noValidate data-testid="payment-form">
      <h2>{t("console.payment.title")}</h2>
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
          aria-describedby={amountProblem ? `${id}-amount-error` : `${id}-amount-hint`}
          onChange={(e) => {
            setAmount(e.target.value);
            setAmountProblem(undefined);
          }}
          data-testid="payment-amount"
        />
        {amountProblem ? (
          <p className="field__error" id={`${id}-amount-error`} data-testid="payment-amount-error">
            {amountProblemMessage(t, amountProblem, digits)}
          </p>
        ) : (
          <p className="field__hint" id={`${id}-amount-hint`}>
            {t("console.payment.amountHint")}
          </p>
        )}
      </div>
      <div className="field">
        <label className="field__label" htmlFor={`${id}-method`}>
          {t("console.payment.method")}
        </label>
        <select
          id={`${id}-method`}
          value={method}
          onChange={(e) => {
            setMethod(PAYMENT_METHODS.find((m) => m === e.target.value) ?? "cash");
          }}
          data-testid="payment-method"
        >
          {PAYMENT_METHODS.map((m) => (
            <option key={m} value={m}>
              {t(`billing.methods.${m}`)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label className="field__label" htmlFor={`${id}-reference`}>
          {t("console.payment.reference")}
        </label>
        <input
          id={`${id}-reference`}
          type="text"
          autoComplete="off"
          maxLength={REFERENCE_MAX}
          value={reference}
          aria-invalid={referenceProblem ? true : undefined}
          aria-describedby={referenceProblem ? `${id}-reference-error` : `${id}-reference-hint`}
          onChange={(e) => {
            setReference(e.target.value);
            setReferenceProblem(undefined);
          }}
          data-testid="payment-reference"
        />
        {referenceProblem ? (
          <p className="field__error" id={`${id}-reference-error`} data-testid="payment-reference-error">
            {t(`console.payment.problems.${referenceProblem}`, { max: REFERENCE_MAX })}
          </p>
        ) : (
          <p className="field__hint" id={`${id}-reference-hint`}>
            {t("console.payment.referenceHint")}
          </p>
        )}
      </div>
      {record.isError && <ErrorNotice error={record.error} />}
      {result && (
        <div
          className={result.created ? "notice notice--success" : "notice notice--warning"}
          role="status"
          data-testid="payment-result"
          data-created={String(result.created)}
        >
          <p className="notice__headline">
            {result.created
              ? t("console.payment.recorded", { amount: format.money(result.movement.amount) })
              : t("console.payment.alreadyRecorded", { reference: result.movement.reference ?? "" })}
          </p>
          <dl className="payment-result">
            <div>
              <dt>{t("console.payment.balance")}</dt>
              <dd
                className={result.balance.minor < 0 ? "balance-line__value--negative" : undefined}
                data-testid="payment-result-balance"
              >
                {format.money(result.balance)}
              </dd>
            </div>
            <div>
              <dt>{t("console.payment.status")}</dt>
              <dd data-testid="payment-result-status" data-status={result.account_status}>
                <Badge tone={ACCOUNT_STATUS_TONE[result.account_status]}>
                  {t(`account.status.${result.account_status}`)}
                </Badge>
              </dd>
            </div>
          </dl>
        </div>
      )}
      <div className="form__actions">
        <button
          type="submit"
          className="button button--primary button--block"
          disabled={record.isPending}
          data-testid="payment-submit"
        >
          {record.isPending ? t("console.payment.submitting") : t("console.payment.submit")}
        </button>
      </div>
    </form>
  );
}
