import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { ErrorNotice } from "../shared/ui/ErrorNotice";

/**
 * A modal that asks the operator to state a reason before an action on an ISP (suspend it,
 * enter its console, …): the reason field, any fields of the action's own (`children`), the
 * server's refusal and confirm / cancel. Opens when mounted; the caller mounts it while open
 * and unmounts it in `onClose` (Escape, cancel, or after a successful submit), so each opening
 * starts with an empty reason.
 */
export function ReasonDialog({
  title,
  explain,
  reasonLabel,
  reasonHint,
  minLength,
  maxLength = 500,
  multiline = false,
  confirmLabel,
  cancelLabel,
  danger = false,
  valid = true,
  pending,
  error,
  onSubmit,
  onClose,
  testIds,
  children,
}: {
  title: string;
  explain: string;
  reasonLabel: string;
  reasonHint?: string;
  /** The shortest reason the server accepts (trimmed); confirm stays disabled until then. */
  minLength: number;
  maxLength?: number;
  /** A textarea rather than a one-line input. */
  multiline?: boolean;
  confirmLabel: string;
  cancelLabel: string;
  /** A destructive action: the confirm button is red. */
  danger?: boolean;
  /** Whether the action's own fields are acceptable too. */
  valid?: boolean;
  pending: boolean;
  error: unknown;
  /** The trimmed reason, once it is long enough and not already submitting; `close` closes the dialog. */
  onSubmit: (reason: string, close: () => void) => void;
  onClose: () => void;
  testIds: { form: string; reason: string; confirm: string };
  children?: ReactNode;
}) {
  const id = useId();
  const [reason, setReason] = useState("");
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (!dialog.current?.open) dialog.current?.showModal();
  }, []);
  const close = () => {
    dialog.current?.close();
    onClose();
  };
  const ready = valid && reason.trim().length >= minLength;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!ready || pending) return;
    onSubmit(reason.trim(), close);
  };
  const field = {
    id: `${id}-reason`,
    minLength,
    maxLength,
    required: true,
    value: reason,
    onChange: (e: { target: { value: string } }) => {
      setReason(e.target.value);
    },
    "aria-describedby": reasonHint ? `${id}-reason-hint` : undefined,
    "data-testid": testIds.reason,
  };
  return (
    <dialog ref={dialog} className="tenant-dialog" onClose={close} aria-labelledby={`${id}-title`}>
      <form className="form" onSubmit={submit} data-testid={testIds.form}>
        <h2 id={`${id}-title`}>{title}</h2>
        <p className="muted">{explain}</p>
        <div className="field">
          <label className="field__label" htmlFor={field.id}>
            {reasonLabel}
          </label>
          {multiline ? <textarea rows={3} {...field} /> : <input type="text" {...field} />}
          {reasonHint && (
            <p className="field__hint muted" id={`${id}-reason-hint`}>
              {reasonHint}
            </p>
          )}
        </div>
        {children}
        {error ? <ErrorNotice error={error} /> : null}
        <div className="tenant-dialog__actions">
          <button
            type="submit"
            className={danger ? "button button--danger" : "button"}
            disabled={!ready || pending}
            data-testid={testIds.confirm}
          >
            {confirmLabel}
          </button>
          <button type="button" className="button button--ghost" onClick={close}>
            {cancelLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
