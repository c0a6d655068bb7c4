import { useId, useRef } from "react";
import { useTranslation } from "react-i18next";
import { ACCEPT, PLATFORM_LIMITS, humanSize, totalSize, type AttachmentLimits, type TicketAttachment } from "./attachments";

/**
 * Picks files for a message: several at once, removable before sending. Files over the size
 * limit (the ISP's, when `limits` is given) are shown as refused rather than sent to fail.
 */
export function FilePicker({
  files,
  onChange,
  disabled = false,
  limits = PLATFORM_LIMITS,
}: {
  files: File[];
  onChange: (files: File[]) => void;
  disabled?: boolean;
  limits?: AttachmentLimits;
}) {
  const { t } = useTranslation();
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const tooLarge = files.filter((f) => f.size > limits.max_file_bytes);
  const overTotal = totalSize(files) > limits.max_message_bytes;
  return (
    <div className="file-picker">
      <label htmlFor={id} className="button button--ghost button--small file-picker__button">
        <svg className="file-picker__icon" viewBox="0 0 24 24" aria-hidden="true">
          <path d="M21 11.5l-8.5 8.5a5 5 0 0 1-7-7l8.5-8.5a3.5 3.5 0 0 1 5 5L10.5 18a2 2 0 0 1-3-3l7.5-7.5" />
        </svg>
        {t("attachments.add")}
      </label>
      <input
        id={id}
        ref={input}
        className="visually-hidden"
        type="file"
        multiple
        accept={ACCEPT}
        disabled={disabled}
        onChange={(e) => {
          const picked = Array.from(e.target.files ?? []);
          onChange([...files, ...picked].slice(0, limits.max_files));
          // The same file may be picked again after being removed.
          e.target.value = "";
        }}
        data-testid="attach-files"
      />
      <span className="muted file-picker__hint" data-testid="attach-limits">
        {t("attachments.hintLimits", {
          files: limits.max_files,
          file: humanSize(limits.max_file_bytes),
          total: humanSize(limits.max_message_bytes),
        })}
      </span>
      {files.length > 0 && (
        <ul className="file-picker__list" data-testid="attached-files">
          {files.map((file, index) => (
            <li key={`${file.name}-${String(index)}`} className={file.size > limits.max_file_bytes ? "file-picker__file file-picker__file--bad" : "file-picker__file"}>
              <span className="file-picker__name">{file.name}</span>
              <span className="muted">{humanSize(file.size)}</span>
              <button
                type="button"
                className="file-picker__remove"
                aria-label={t("attachments.remove", { name: file.name })}
                onClick={() => {
                  onChange(files.filter((_, i) => i !== index));
                }}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {tooLarge.map((f) => (
        <p key={f.name} className="field__error" role="alert">
          {t("attachments.tooLargeLimit", { name: f.name, max: humanSize(limits.max_file_bytes) })}
        </p>
      ))}
      {overTotal && (
        <p className="field__error" role="alert" data-testid="attach-over-total">
          {t("attachments.overTotal", { max: humanSize(limits.max_message_bytes) })}
        </p>
      )}
    </div>
  );
}

/** The files of one message or note: images as thumbnails, others as links; all download. */
export function AttachmentList({
  attachments,
  href,
}: {
  attachments: TicketAttachment[];
  href: (attachment: TicketAttachment) => string;
}) {
  const { t } = useTranslation();
  if (attachments.length === 0) return null;
  return (
    <ul className="attachments" aria-label={t("attachments.files")} data-testid="message-attachments">
      {attachments.map((a) => {
        const url = href(a);
        const label = t("attachments.download", { name: a.file_name, size: humanSize(a.size_bytes) });
        return (
          <li key={a.id} className="attachment" data-testid="attachment" data-content-type={a.content_type}>
            <a href={url} download={a.file_name} title={label} aria-label={label} data-testid="attachment-link">
              {a.content_type.startsWith("image/") ? (
                <img className="attachment__thumb" src={url} alt="" loading="lazy" />
              ) : (
                <span className="attachment__icon" aria-hidden="true">
                  {a.content_type === "application/pdf" ? "PDF" : "TXT"}
                </span>
              )}
              <span className="attachment__name">{a.file_name}</span>
              <span className="attachment__size muted">{humanSize(a.size_bytes)}</span>
            </a>
          </li>
        );
      })}
    </ul>
  );
}
