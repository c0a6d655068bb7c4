import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import type { Autopay, Money, PaymentOptions, SavedCard } from "../../api/types";
import { parseMajorAmount, type AmountProblem } from "../../shared/billing/amount";
import { amountProblemMessage } from "../../shared/billing/amountMessage";
import { minorUnitDigits, useFormat } from "../../shared/i18n/format";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { useCardName } from "./card";
import { decimalSeparator, minorToInput, parseSignedMajorAmount } from "./money";
import { useForgetCard, useSetAutopay } from "./payments";

/** The saved card and the auto-pay rule; without a card, how to get one saved. */
export function AutopayCard({ options, nextCharge }: { options: PaymentOptions; nextCharge: Money | undefined }) {
  const { t } = useTranslation();
  const id = useId();
  const forget = useForgetCard();
  const autopay = options.autopay;
  const card = autopay.card;

  return (
    <section className="card payments-card" aria-labelledby={`${id}-title`} data-testid="autopay-section">
      <h2 id={`${id}-title`}>{t("portal.payments.autopay.title")}</h2>
      {card ? (
        <>
          {autopay.paused_reason && (
            <div className="notice notice--warning" role="alert" data-testid="autopay-paused">
              <p className="notice__headline">{t("portal.payments.autopay.paused", { reason: autopay.paused_reason })}</p>
              <p>{t("portal.payments.autopay.pausedText")}</p>
            </div>
          )}
          <CardLine card={card} forget={forget} />
          {/* Keyed by the saved rule, so the form starts again from what the server holds after a change elsewhere. */}
          <AutopayForm
            key={card.last4 + card.expires}
            autopay={autopay}
            options={options}
            nextCharge={nextCharge}
          />
        </>
      ) : (
        <>
          {forget.isSuccess && (
            <p className="notice notice--success" role="status" data-testid="card-forgotten">
              {t("portal.payments.autopay.forgotten")}
            </p>
          )}
          <p className="muted" data-testid="autopay-no-card">
            {t("portal.payments.autopay.noCard")}
          </p>
        </>
      )}
    </section>
  );
}

function CardLine({ card, forget }: { card: SavedCard; forget: ReturnType<typeof useForgetCard> }) {
  const { t } = useTranslation();
  const cardName = useCardName();
  const id = useId();
  const [confirming, setConfirming] = useState(false);
  const confirmRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!confirming) return;
    confirmRef.current?.scrollIntoView({ block: "nearest" });
    confirmRef.current?.focus();
  }, [confirming]);

  return (
    <div className="saved-card-block">
      <div className="saved-card" data-testid="saved-card" data-last4={card.last4}>
        <span className="saved-card__icon" aria-hidden="true" />
        <span className="saved-card__text">
          <strong data-testid="saved-card-name">{cardName(card)}</strong>
          <span className="muted">{t("portal.payments.autopay.expires", { date: card.expires })}</span>
        </span>
        {!confirming && (
          <button
            type="button"
            className="button button--ghost button--small"
            onClick={() => {
              forget.reset();
              setConfirming(true);
            }}
            data-testid="card-forget"
          >
            {t("portal.payments.autopay.forget")}
          </button>
        )}
      </div>
      {confirming && (
        <div
          ref={confirmRef}
          tabIndex={-1}
          className="confirm-box"
          role="group"
          aria-labelledby={`${id}-confirm`}
          data-testid="card-forget-confirm"
        >
          <h3 id={`${id}-confirm`}>{t("portal.payments.autopay.forgetTitle")}</h3>
          <p>{t("portal.payments.autopay.forgetText")}</p>
          {forget.isError && <ErrorNotice error={forget.error} />}
          <div className="confirm-box__actions">
            <button
              type="button"
              className="button button--ghost"
              disabled={forget.isPending}
              onClick={() => {
                forget.reset();
                setConfirming(false);
              }}
            >
              {t("portal.payments.autopay.cancel")}
            </button>
            <button
              type="button"
              className="button button--danger"
              disabled={forget.isPending}
              onClick={() => {
                forget.mutate();
              }}
              data-testid="card-forget-submit"
            >
              {forget.isPending ? t("portal.payments.autopay.forgetting") : t("portal.payments.autopay.forgetConfirm")}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

type FieldProblem = AmountProblem | "tooSmall";

function AutopayForm({
  autopay,
  options,
  nextCharge,
}: {
  autopay: Autopay;
  options: PaymentOptions;
  nextCharge: Money | undefined;
}) {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  const id = useId();
  const save = useSetAutopay();
  const { min_amount: min, max_amount: max } = options;
  const currency = min.currency;
  const digits = minorUnitDigits(currency);
  const separator = decimalSeparator(i18n.resolvedLanguage ?? "en");
  const toInput = (minor: number) => minorToInput(minor, digits, separator);
  // Never set up: suggest the monthly charge for both, so a month is always paid for.
  const fresh = autopay.amount.minor === 0;
  const suggested = nextCharge && nextCharge.currency === currency && nextCharge.minor >= min.minor ? nextCharge.minor : undefined;
  const [enabled, setEnabled] = useState(autopay.enabled);
  // Untouched fields show the saved rule, or the suggestion once the dashboard has loaded.
  const suggestion = suggested === undefined ? "" : toInput(suggested);
  const [thresholdInput, setThreshold] = useState<string>();
  const [amountInput, setAmount] = useState<string>();
  const threshold = thresholdInput ?? (fresh ? suggestion : toInput(autopay.threshold.minor));
  const amount = amountInput ?? (fresh ? suggestion : toInput(autopay.amount.minor));
  const [problems, setProblems] = useState<{ threshold?: FieldProblem; amount?: FieldProblem }>({});

  function submit(event: FormEvent) {
    event.preventDefault();
    if (save.isPending) return;
    const parsedThreshold = parseSignedMajorAmount(threshold, digits, max.minor);
    const parsedAmount = parseMajorAmount(amount, digits, max.minor);
    // Switched off, the amounts do not matter: what does not parse keeps its saved value.
    const next = enabled
      ? {
          threshold: parsedThreshold.ok ? undefined : parsedThreshold.problem,
          amount: !parsedAmount.ok ? parsedAmount.problem : parsedAmount.minor < min.minor ? ("tooSmall" as const) : undefined,
        }
      : {};
    setProblems(next);
    if (next.threshold ?? next.amount) {
      save.reset();
      return;
    }
    save.mutate({
      enabled,
      threshold_minor: parsedThreshold.ok ? parsedThreshold.minor : autopay.threshold.minor,
      amount_minor: parsedAmount.ok ? parsedAmount.minor : autopay.amount.minor,
    });
  }

  const problemText = (problem: FieldProblem) =>
    problem === "tooSmall"
      ? t("portal.payments.topUp.tooSmall", { min: format.money(min) })
      : amountProblemMessage(t, problem, digits, format.money(max));

  const field = (
    name: "threshold" | "amount",
    value: string,
    set: (value: string) => void,
    hint: string,
  ) => {
    const problem = problems[name];
    const noteId = `${id}-${name}-note`;
    return (
      <div className="field">
        <label className="field__label" htmlFor={`${id}-${name}`}>
          {t(`portal.payments.autopay.${name}`, { currency: format.currencySymbol(currency) })}
        </label>
        <input
          id={`${id}-${name}`}
          className="amount-input"
          type="text"
          inputMode={name === "threshold" ? "text" : "decimal"}
          autoComplete="off"
          value={value}
          disabled={!enabled}
          aria-invalid={problem ? true : undefined}
          aria-describedby={noteId}
          onChange={(e) => {
            set(e.target.value);
            setProblems((p) => ({ ...p, [name]: undefined }));
            save.reset();
          }}
          data-testid={`autopay-${name}`}
        />
        {problem ? (
          <p className="field__error" id={noteId} data-testid={`autopay-${name}-error`}>
            {problemText(problem)}
          </p>
        ) : (
          <p className="field__hint" id={noteId}>
            {hint}
          </p>
        )}
      </div>
    );
  };

  const rule = autopay;
  return (
    <form className="form autopay-form" onSubmit={submit} noValidate data-testid="autopay-form">
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          checked={enabled}
          onChange={(e) => {
            setEnabled(e.target.checked);
            setProblems({});
            save.reset();
          }}
          data-testid="autopay-enabled"
        />
        <span className="switch__label">{t("portal.payments.autopay.enabled")}</span>
      </label>
      <p className="muted autopay-rule" data-testid="autopay-rule" data-enabled={rule.enabled}>
        {rule.enabled
          ? t("portal.payments.autopay.on", { threshold: format.money(rule.threshold), amount: format.money(rule.amount) })
          : t("portal.payments.autopay.off")}
      </p>
      <div className="autopay-fields">
        {field("threshold", threshold, setThreshold, t("portal.payments.autopay.thresholdHint"))}
        {field(
          "amount",
          amount,
          setAmount,
          t("portal.payments.autopay.amountHint", { min: format.money(min), max: format.money(max) }),
        )}
      </div>
      {save.isError && <ErrorNotice error={save.error} />}
      {save.isSuccess && (
        <p className="notice notice--success" role="status" data-testid="autopay-saved">
          {t("portal.payments.autopay.saved")}
        </p>
      )}
      <div className="form__actions">
        <button type="submit" className="button button--primary button--block" disabled={save.isPending} data-testid="autopay-submit">
          {save.isPending ? t("portal.payments.autopay.submitting") : t("portal.payments.autopay.submit")}
        </button>
      </div>
    </form>
  );
}
