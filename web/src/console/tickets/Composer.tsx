import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { FilePicker } from "../../shared/tickets/Attachments";
import { CannedPicker } from "../canned/CannedPicker";
import { filesOk } from "../../shared/tickets/attachments";
import { useAddNote, useReplyToTicket } from "./tickets";

type Mode = "reply" | "note";

/**
 * The agent's composer: a public reply to the subscriber, or an internal note that only staff
 * see. The note mode is coloured differently so nobody mistakes one for the other.
 */
export function Composer({ ticketId, mayReply, closed }: { ticketId: string; mayReply: boolean; closed: boolean }) {
  const { t } = useTranslation();
  const id = useId();
  const [mode, setMode] = useState<Mode>(closed ? "note" : "reply");
  const [body, setBody] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const reply = useReplyToTicket(ticketId);
  const note = useAddNote(ticketId);
  const current = mode === "reply" ? reply : note;
  if (!mayReply) return null;

  function submit(event: FormEvent) {
    event.preventDefault();
    const text = body.trim();
    if (text === "" || !filesOk(files)) return;
    current.mutate(
      { body: text, files },
      {
        onSuccess: () => {
          setBody("");
          setFiles([]);
        },
      },
    );
  }

  return (
    <form className={`form reply composer composer--${mode}`} onSubmit={submit} data-testid="reply-form">
      <div className="composer__tabs" role="radiogroup" aria-label={t("console.desk.composerMode")}>
        {(["reply", "note"] as const).map((m) => (
          <button
            key={m}
            type="button"
            role="radio"
            aria-checked={mode === m}
            className={mode === m ? "composer__tab composer__tab--active" : "composer__tab"}
            disabled={m === "reply" && closed}
            onClick={() => {
              setMode(m);
            }}
            data-testid={`composer-${m}`}
          >
            {m === "reply" ? t("console.desk.publicReply") : t("console.desk.internalNote")}
          </button>
        ))}
      </div>
      <label htmlFor={id} className="field__label">
        {mode === "reply" ? t("console.desk.replyLabel") : t("console.desk.noteLabel")}
      </label>
      {mode === "reply" && (
        <CannedPicker
          ticketId={ticketId}
          onInsert={(text) => {
            setBody((current) => (current.trim() === "" ? text : `${current.trimEnd()}\n\n${text}`));
          }}
        />
      )}
      <textarea
        id={id}
        rows={4}
        required
        value={body}
        onChange={(e) => {
          setBody(e.target.value);
        }}
        data-testid="reply-body"
      />
      <FilePicker files={files} onChange={setFiles} disabled={current.isPending} />
      {mode === "note" && <p className="muted composer__hint">{t("console.desk.noteHint")}</p>}
      {current.error != null && <ErrorNotice error={current.error} />}
      <div className="form__actions">
        <button
          type="submit"
          className="button button--primary"
          disabled={current.isPending || body.trim() === "" || !filesOk(files)}
          data-testid="reply-submit"
        >
          {current.isPending
            ? t("ticket.replySending")
            : mode === "reply"
              ? t("ticket.replySubmit")
              : t("console.desk.addNote")}
        </button>
      </div>
    </form>
  );
}
