import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import type { Movement } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { useReverseMovement } from "./billing";

/**
 * "Reverse" on one movement of the ledger: asks for the reason, then undoes the movement in full
 * (a card payment goes back to the card through Stripe). A reversal cannot itself be reversed,
 * and a movement is reversed at most once.
 */
export function ReverseMovement({ accountNumber, movement }: { accountNumber: string; movement: Movement }) {
  const { t } = useTranslation();
  const format = useFormat();
  const id = useId();
  const reverse = useReverseMovement(accountNumber);
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (open && !dialog.current?.open) dialog.current?.showModal();
  }, [open]);

  if (movement.kind === "reversal" || movement.kind === "opening_balance") return null;
  if (movement.reversed) {
    return (
      <span className="muted ledger__reversed" data-testid="movement-reversed">
        {t("console.reversal.reversed")}
      </span>
    );
  }
  const close = () => {
    dialog.current?.close();
    setOpen(false);
    setReason("");
    reverse.reset();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const why = reason.trim();
    if (why === "" || reverse.isPending) return;
    reverse.mutate({ transaction: movement.id, reason: why }, { onSuccess: close });
  };
  return (
    <>
      <button
        type="button"
        className="button button--ghost button--small"
        onClick={() => {
          setOpen(true);
        }}
        data-testid="movement-reverse"
      >
        {t("console.reversal.open")}
      </button>
      {open && (
        <dialog ref={dialog} className="reverse-dialog" onClose={close} aria-labelledby={`${id}-title`}>
          <form className="form reverse-form" onSubmit={submit} data-testid="reverse-form">
            <h2 id={`${id}-title`}>{t("console.reversal.title")}</h2>
            <p>
              {t("console.reversal.question", {
                amount: format.signedMoney(movement.amount),
                date: format.dateTime(movement.at),
              })}
            </p>
            <div className="field">
              <label className="field__label" htmlFor={`${id}-reason`}>
                {t("console.reversal.reason")}
              </label>
              <input
                id={`${id}-reason`}
                type="text"
                maxLength={200}
                value={reason}
                placeholder={t("console.reversal.reasonExample")}
                onChange={(e) => {
                  setReason(e.target.value);
                }}
                data-testid="reverse-reason"
              />
            </div>
            {reverse.isError && <ErrorNotice error={reverse.error} />}
            <div className="reverse-form__actions">
              <button
                type="submit"
                className="button button--primary"
                disabled={reason.trim() === "" || reverse.isPending}
                data-testid="reverse-confirm"
              >
                {t("console.reversal.confirm")}
              </button>
              <button type="button" className="button button--ghost" onClick={close}>
                {t("console.reversal.cancel")}
              </button>
            </div>
          </form>
        </dialog>
      )}
    </>
  );
}
