import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import type { Money, PaymentOptions } from "../../api/types";
import { parseMajorAmount, type AmountProblem } from "../../shared/billing/amount";
import { amountProblemMessage } from "../../shared/billing/amountMessage";
import { minorUnitDigits, useFormat } from "../../shared/i18n/format";
import { useBranding } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { decimalSeparator, formatShortMoney, minorToInput, quickAmounts } from "./money";
import { useStartTopUp } from "./payments";
import { useCardName } from "./card";

type Problem = AmountProblem | "tooSmall";

/** The card top-up: an amount, quick sums, "save the card", and off to Stripe Checkout. */
export function TopUpCard({
  options,
  nextCharge,
  accountNumber,
}: {
  options: PaymentOptions;
  nextCharge: Money | undefined;
  accountNumber: string | undefined;
}) {
  const { t } = useTranslation();
  const id = useId();

  return (
    <section className="card payments-card" aria-labelledby={`${id}-title`} data-testid="topup-section">
      <h2 id={`${id}-title`}>{t("portal.payments.topUp.title")}</h2>
      {options.online ? (
        <TopUpForm options={options} nextCharge={nextCharge} />
      ) : (
        <OfflineNotice accountNumber={accountNumber} />
      )}
    </section>
  );
}

function TopUpForm({ options, nextCharge }: { options: PaymentOptions; nextCharge: Money | undefined }) {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  const cardName = useCardName();
  const id = useId();
  const start = useStartTopUp();
  const [amount, setAmount] = useState("");
  const [saveCard, setSaveCard] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const { min_amount: min, max_amount: max } = options;
  const currency = min.currency;
  const digits = minorUnitDigits(currency);
  const locale = i18n.resolvedLanguage ?? "en";
  const separator = decimalSeparator(locale);
  const money = (minor: number): Money => ({ minor, currency });
  const short = (minor: number) => formatShortMoney(minor, currency, digits, locale);
  const chips = quickAmounts(nextCharge?.currency === currency ? nextCharge.minor : undefined, digits, min.minor, max.minor);
  const parsed = parseMajorAmount(amount, digits, max.minor);
  const current = parsed.ok ? parsed.minor : undefined;
  // Sent to Checkout: the button stays busy until the browser has left.
  const leaving = start.isPending || start.isSuccess;
  const savedCard = options.autopay.card;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (leaving) return;
    const next: Problem | undefined = !parsed.ok ? parsed.problem : parsed.minor < min.minor ? "tooSmall" : undefined;
    setProblem(next);
    if (next !== undefined || !parsed.ok) {
      start.reset();
      return;
    }
    start.mutate(
      { amount_minor: parsed.minor, save_card: saveCard },
      {
        onSuccess: (started) => {
          window.location.assign(started.checkout_url);
        },
      },
    );
  }

  const hintId = `${id}-amount-note`;
  return (
    <>
      <p className="muted">{t("portal.payments.topUp.intro")}</p>
      <form className="form" onSubmit={submit} noValidate data-testid="topup-form">
        <div className="field">
          <label className="field__label" htmlFor={`${id}-amount`}>
            {t("portal.payments.topUp.amount", { currency: format.currencySymbol(currency) })}
          </label>
          <input
            id={`${id}-amount`}
            className="amount-input"
            type="text"
            inputMode="decimal"
            autoComplete="off"
            value={amount}
            aria-invalid={problem ? true : undefined}
            aria-describedby={hintId}
            onChange={(e) => {
              setAmount(e.target.value);
              setProblem(undefined);
            }}
            data-testid="topup-amount"
          />
          {problem ? (
            <p className="field__error" id={hintId} data-testid="topup-amount-error">
              {problem === "tooSmall"
                ? t("portal.payments.topUp.tooSmall", { min: format.money(min) })
                : amountProblemMessage(t, problem, digits, format.money(max))}
            </p>
          ) : (
            <p className="field__hint" id={hintId}>
              {t("portal.payments.topUp.amountHint", { min: format.money(min), max: format.money(max) })}
            </p>
          )}
        </div>
        {chips.length > 0 && (
          <div className="chips" role="group" aria-label={t("portal.payments.topUp.quick")}>
            {chips.map((minor) => (
              <button
                key={minor}
                type="button"
                className="chip"
                aria-pressed={current === minor}
                onClick={() => {
                  setAmount(minorToInput(minor, digits, separator));
                  setProblem(undefined);
                }}
                data-testid="topup-chip"
                data-minor={minor}
              >
                {nextCharge && minor === nextCharge.minor
                  ? t("portal.payments.topUp.monthly", { amount: short(minor) })
                  : short(minor)}
              </button>
            ))}
          </div>
        )}
        <label className="check">
          <input
            type="checkbox"
            checked={saveCard}
            onChange={(e) => {
              setSaveCard(e.target.checked);
            }}
            data-testid="topup-save-card"
          />
          <span>
            {t("portal.payments.topUp.saveCard")}
            {saveCard && savedCard && (
              <span className="check__note">
                {t("portal.payments.topUp.replacesCard", { card: cardName(savedCard) })}
              </span>
            )}
          </span>
        </label>
        {start.isError && <ErrorNotice error={start.error} />}
        <div className="form__actions">
          <button
            type="submit"
            className="button button--primary button--block"
            disabled={leaving}
            data-testid="topup-submit"
          >
            {leaving
              ? t("portal.payments.topUp.submitting")
              : current !== undefined && current >= min.minor
                ? t("portal.payments.topUp.submit", { amount: format.money(money(current)) })
                : t("portal.payments.topUp.submitPlain")}
          </button>
        </div>
        <p className="payments-secure muted">{t("portal.payments.topUp.secure")}</p>
      </form>
    </>
  );
}

function OfflineNotice({ accountNumber }: { accountNumber: string | undefined }) {
  const { t } = useTranslation();
  const branding = useBranding();
  const phone = branding?.support_phone;
  const email = branding?.support_email;
  return (
    <div className="notice notice--info" data-testid="topup-unavailable">
      <p className="notice__headline">{t("portal.payments.topUp.unavailableTitle")}</p>
      <p>
        {accountNumber
          ? t("portal.payments.topUp.unavailable", { number: accountNumber })
          : t("portal.payments.topUp.unavailableNoNumber")}
      </p>
      {(phone ?? email) && (
        <p>
          {t("portal.payments.topUp.questions")} {phone && <a href={`tel:${phone.replace(/[^\d+]/g, "")}`}>{phone}</a>}
          {phone && email && " · "}
          {email && <a href={`mailto:${email}`}>{email}</a>}
        </p>
      )}
    </div>
  );
}
