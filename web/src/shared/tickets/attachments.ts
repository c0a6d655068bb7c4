import type { TicketMessage } from "../../api/types";

/** A file as a thread lists it (the same shape on messages and on internal notes). */
export type TicketAttachment = TicketMessage["attachments"][number];

/** What the server accepts; it checks the content itself, this only narrows the file dialog. */
export const ACCEPT = "image/png,image/jpeg,image/webp,image/gif,application/pdf,text/plain,.txt,.log";
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const MAX_FILES = 10;

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
export function filesOk(files: File[]): boolean {
  return files.length <= MAX_FILES && files.every((f) => f.size <= MAX_FILE_BYTES && f.size > 0);
}

