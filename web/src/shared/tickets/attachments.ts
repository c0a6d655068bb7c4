import type { TicketMessage } from "../../api/types";

/** A file as a thread lists it (the same shape on messages and on internal notes). */
export type TicketAttachment = TicketMessage["attachments"][number];

/** What the server accepts; it checks the content itself, this only narrows the file dialog. */
export const ACCEPT = "image/png,image/jpeg,image/webp,image/gif,application/pdf,text/plain,.txt,.log";
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const MAX_FILES = 10;

/** What the files of one message may take: the ISP's limits (`/me/attachment-limits`). */
export interface AttachmentLimits {
  max_file_bytes: number;
  max_message_bytes: number;
  max_files: number;
}

/** The platform's caps, the limits until the ISP's are known. */
export const PLATFORM_LIMITS: AttachmentLimits = {
  max_file_bytes: MAX_FILE_BYTES,
  max_message_bytes: 25 * 1024 * 1024,
  max_files: MAX_FILES,
};

/** The multipart body of a message with files: its text fields, then every file as `files`. */
export function messageForm(fields: Record<string, string>, files: File[]): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const file of files) form.append("files", file, file.name);
  return form;
}

export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Whether the picked files may be sent as they are. */
export function filesOk(files: File[], limits: AttachmentLimits = PLATFORM_LIMITS): boolean {
  return (
    files.length <= limits.max_files &&
    files.every((f) => f.size <= limits.max_file_bytes && f.size > 0) &&
    totalSize(files) <= limits.max_message_bytes
  );
}

export function totalSize(files: File[]): number {
  return files.reduce((sum, f) => sum + f.size, 0);
}

