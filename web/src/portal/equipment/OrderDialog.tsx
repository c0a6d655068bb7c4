import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { EquipmentOffer, EquipmentOrderDetail, OrderMode } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useDashboard } from "../dashboard/dashboard";
import { useEquipmentQuote, usePlaceOrder } from "./equipment";

const NOTE_MAX = 1000;

/** The API takes any way people write a phone number; this only catches obvious slips early. */
function phoneProblem(raw: string): "empty" | "format" | undefined {
  const text = raw.trim();
  if (text === "") return "empty";
  const digits = text.replace(/\D/g, "");
  if (!/^[\d\s+()-]+$/.test(text) || digits.length < 7 || digits.length > 15) return "format";
  return undefined;
}

/**
 * Ordering one item, in a modal dialog: what it costs, what is charged now and the balance
 * after (as the API computes them, the same rules the order is placed with), then the
 * contact phone and delivery wishes. Nothing is ordered before "Confirm".
 */
export function OrderDialog({
  offer,
  mode,
  onClose,
  onPlaced,
}: {
  offer: EquipmentOffer;
  mode: OrderMode;
  onClose: () => void;
  onPlaced: (order: EquipmentOrderDetail) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const phoneId = useId();
  const noteId = useId();
  const quote = useEquipmentQuote(offer.code, mode);
  const place = usePlaceOrder();
  const profilePhone = useDashboard().data?.subscriber.phone;
  // The profile's phone until the subscriber types another.
  const [typedPhone, setPhone] = useState<string>();
  const phone = typedPhone ?? profilePhone ?? "";
  const [note, setNote] = useState("");
  const [touched, setTouched] = useState(false);
  // One id per dialog: a retry after a lost answer finds the same order instead of a second.
  const [requestId] = useState(() => crypto.randomUUID());

  // Open as a modal once mounted; unmounting removes it (and its backdrop) with the element.
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  const problem = phoneProblem(phone);
  const q = quote.data;
  const canConfirm = q?.allowed === true && !place.isPending;

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (problem || !canConfirm) return;
    place.mutate(
      { code: offer.code, mode, contact_phone: phone.trim(), delivery_note: note.trim(), request_id: requestId },
      { onSuccess: onPlaced },
    );
  }

  return (
    <dialog
      ref={ref}
      className="order-dialog"
      aria-labelledby={titleId}
      onClose={onClose}
      onCancel={(e) => {
        if (place.isPending) e.preventDefault();
      }}
      data-testid="order-dialog"
      data-mode={mode}
    >
      <form className="order-dialog__body" onSubmit={submit} noValidate>
        <header className="order-dialog__head">
          <h2 id={titleId}>
            {mode === "rent"
              ? t("equipment.dialog.rentTitle", { name: offer.name })
              : t("equipment.dialog.buyTitle", { name: offer.name })}
          </h2>
          <button
            type="button"
            className="button button--ghost button--small"
            onClick={onClose}
            disabled={place.isPending}
            aria-label={t("equipment.dialog.close")}
          >
            ✕
          </button>
        </header>

        {quote.isPending && <Loading />}
        {quote.isError && <ErrorNotice error={quote.error} />}
        {q && (
          <>
            <dl className="facts order-dialog__facts" data-testid="order-quote">
              <div>
                <dt>{mode === "rent" ? t("equipment.dialog.rent") : t("equipment.dialog.price")}</dt>
                <dd data-testid="quote-price">
                  {mode === "rent"
                    ? t("portal.dashboard.monthly", { price: format.money(q.price) })
                    : format.money(q.price)}
                </dd>
              </div>
              <div>
                <dt>{t("equipment.dialog.chargeNow")}</dt>
                <dd data-testid="quote-charge-now">{format.money(q.charge_now)}</dd>
              </div>
              <div>
                <dt>{t("equipment.dialog.balanceNow")}</dt>
                <dd className={q.balance.minor < 0 ? "facts__negative" : undefined}>{format.money(q.balance)}</dd>
              </div>
              <div>
                <dt>{t("equipment.dialog.balanceAfter")}</dt>
                <dd
                  className={q.balance_after.minor < 0 ? "facts__negative" : undefined}
                  data-testid="quote-balance-after"
                >
                  {format.money(q.balance_after)}
                </dd>
              </div>
            </dl>
            <p className="muted order-dialog__explain">
              {mode === "rent"
                ? t("equipment.dialog.rentExplain", { price: format.money(q.price) })
                : t("equipment.dialog.buyExplain")}
            </p>
            {!q.allowed && (
              <div className="notice notice--error" data-testid="quote-refused">
                <p className="notice__headline">
                  {t("equipment.dialog.shortfall", { amount: format.money(q.shortfall) })}
                </p>
                <Link to="/payments">{t("equipment.dialog.topUp")}</Link>
              </div>
            )}
            {q.allowed && q.blocks_service && (
              <p className="notice notice--warning" data-testid="quote-blocks">
                {t("equipment.dialog.blocks")}
              </p>
            )}
          </>
        )}

        <div className="field">
          <label className="field__label" htmlFor={phoneId}>
            {t("equipment.dialog.phone")}
          </label>
          <input
            id={phoneId}
            type="tel"
            autoComplete="tel"
            inputMode="tel"
            value={phone}
            maxLength={32}
            aria-invalid={touched && problem ? true : undefined}
            aria-describedby={`${phoneId}-hint`}
            onChange={(e) => {
              setPhone(e.target.value);
            }}
            data-testid="order-phone"
          />
          {touched && problem ? (
            <p className="field__error" id={`${phoneId}-hint`}>
              {t(`equipment.dialog.phoneProblems.${problem}`)}
            </p>
          ) : (
            <p className="field__hint" id={`${phoneId}-hint`}>
              {t("equipment.dialog.phoneHint")}
            </p>
          )}
        </div>
        <div className="field">
          <label className="field__label" htmlFor={noteId}>
            {t("equipment.dialog.note")}
          </label>
          <textarea
            id={noteId}
            value={note}
            maxLength={NOTE_MAX}
            rows={3}
            aria-describedby={`${noteId}-hint`}
            onChange={(e) => {
              setNote(e.target.value);
            }}
            data-testid="order-note"
          />
          <p className="field__hint" id={`${noteId}-hint`}>
            {t("equipment.dialog.noteHint")}
          </p>
        </div>

        {place.error && <ErrorNotice error={place.error} />}
        <div className="confirm-box__actions">
          <button type="button" className="button button--ghost" onClick={onClose} disabled={place.isPending}>
            {t("equipment.dialog.cancel")}
          </button>
          <button
            type="submit"
            className="button button--primary"
            disabled={!canConfirm}
            data-testid="order-confirm"
          >
            {place.isPending
              ? t("equipment.dialog.confirming")
              : q
                ? t("equipment.dialog.confirm", { amount: format.money(q.charge_now) })
                : t("equipment.dialog.confirmPlain")}
          </button>
        </div>
      </form>
    </dialog>
  );
}
