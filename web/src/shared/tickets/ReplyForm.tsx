import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ErrorNotice } from "../ui/ErrorNotice";
import { FilePicker } from "./Attachments";
import { filesOk, type AttachmentLimits } from "./attachments";

/** The reply box under a ticket thread; clears itself once the reply is accepted. */
export function ReplyForm({
  pending,
  error,
  disabled = false,
  limits,
  onSubmit,
}: {
  pending: boolean;
  error: unknown;
  disabled?: boolean;
  /** The ISP's limits on files (the platform's caps when absent). */
  limits?: AttachmentLimits;
  onSubmit: (body: string, files: File[], done: () => void) => void;
}) {
  const { t } = useTranslation();
  const id = useId();
  const [body, setBody] = useState("");
  const [files, setFiles] = useState<File[]>([]);

  function submit(event: FormEvent) {
    event.preventDefault();
    const text = body.trim();
    if (text === "" || !filesOk(files, limits)) return;
    onSubmit(text, files, () => {
      setBody("");
      setFiles([]);
    });
  }

  return (
    <form className="form reply" onSubmit={submit} data-testid="reply-form">
      <label htmlFor={id} className="field__label">
        {t("ticket.reply")}
      </label>
      <textarea
        id={id}
        rows={4}
        required
        disabled={disabled}
        value={body}
        onChange={(e) => {
          setBody(e.target.value);
        }}
        data-testid="reply-body"
      />
      <FilePicker files={files} onChange={setFiles} disabled={disabled} limits={limits} />
      {error != null && <ErrorNotice error={error} />}
      <div className="form__actions">
        <button
          type="submit"
          className="button button--primary"
          disabled={disabled || pending || body.trim() === "" || !filesOk(files, limits)}
          data-testid="reply-submit"
        >
          {pending ? t("ticket.replySending") : t("ticket.replySubmit")}
        </button>
      </div>
    </form>
  );
}
