import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import type { components } from "../../api/schema";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Field } from "../../shared/ui/Field";
import { Loading } from "../../shared/ui/Loading";
import { formatBytes } from "../plan/plan";
import "../plan/plan.css";
import "./attachment-settings.css";

type AttachmentSettings = components["schemas"]["AttachmentSettings"];

const settingsKey = ["console", "settings", "attachments"] as const;
const MIB = 1024 * 1024;

/** Megabytes as the form shows them: up to two decimals, no trailing zeros. */
function toMb(bytes: number): string {
  return String(Math.round((bytes / MIB) * 100) / 100);
}

function toBytes(mb: string): number {
  return Math.round(Number(mb.replace(",", ".")) * MIB);
}

/**
 * `/console/settings/attachments`: the ISP's own limits on ticket files (one file, all files of
 * a message), never above the platform's caps, and the storage its files take against its plan.
 */
export function AttachmentSettingsPage() {
  const { t } = useTranslation();
  usePageTitle(t("attachmentSettings.title"));
  const current = useQuery({
    queryKey: settingsKey,
    queryFn: () => data(api.GET("/console/settings/attachments")),
  });
  // Kept here: a save changes the form's key (the limits), which mounts a fresh form.
  const [saved, setSaved] = useState(false);
  return (
    <div className="stack attachment-settings" data-testid="attachment-settings-page">
      <header className="page-header">
        <h1>{t("attachmentSettings.title")}</h1>
        <p className="muted">{t("attachmentSettings.intro")}</p>
      </header>
      {current.isPending && <Loading />}
      {current.isError && <ErrorNotice error={current.error} onRetry={() => void current.refetch()} />}
      {current.data && (
        <>
          <LimitsForm
            key={`${current.data.max_file_bytes}-${current.data.max_message_bytes}`}
            settings={current.data}
            saved={saved}
            onSaved={setSaved}
          />
          <StorageCard settings={current.data} />
        </>
      )}
    </div>
  );
}

function LimitsForm({
  settings,
  saved,
  onSaved: setSaved,
}: {
  settings: AttachmentSettings;
  /** The last save went through and nothing was typed since. */
  saved: boolean;
  onSaved: (saved: boolean) => void;
}) {
  const { t, i18n } = useTranslation();
  const client = useQueryClient();
  const [file, setFile] = useState(toMb(settings.max_file_bytes));
  const [message, setMessage] = useState(toMb(settings.max_message_bytes));
  const save = useMutation({
    mutationFn: (body: { max_file_bytes: number; max_message_bytes: number }) =>
      data(api.PUT("/console/settings/attachments", { body })),
    onSuccess: (fresh) => {
      client.setQueryData(settingsKey, fresh);
      setSaved(true);
    },
  });
  const fileBytes = toBytes(file);
  const messageBytes = toBytes(message);
  const fileOverMessage = fileBytes > messageBytes;
  function submit(event: FormEvent) {
    event.preventDefault();
    if (fileOverMessage || save.isPending) return;
    setSaved(false);
    save.mutate({ max_file_bytes: fileBytes, max_message_bytes: messageBytes });
  }
  const platformFile = formatBytes(settings.platform_max_file_bytes, i18n.language);
  const platformMessage = formatBytes(settings.platform_max_message_bytes, i18n.language);
  return (
    <section className="card" aria-labelledby="attachment-limits-title">
      <h2 id="attachment-limits-title">{t("attachmentSettings.limits")}</h2>
      <p className="muted" data-testid="attachment-limits-state" data-customised={String(settings.customised)}>
        {settings.customised ? t("attachmentSettings.customised") : t("attachmentSettings.platformDefault")}{" "}
        {t("attachmentSettings.maxFiles", { count: settings.max_files })}
      </p>
      <form className="form attachment-settings__form" onSubmit={submit} data-testid="attachment-limits-form">
        <Field label={t("attachmentSettings.maxFile")} hint={t("attachmentSettings.maxFileHint", { max: platformFile })}>
          {(control) => (
            <input
              {...control}
              type="number"
              inputMode="decimal"
              required
              min={0.01}
              step={0.01}
              max={settings.platform_max_file_bytes / MIB}
              value={file}
              onChange={(e) => {
                setFile(e.target.value);
                setSaved(false);
              }}
              data-testid="attachment-max-file"
            />
          )}
        </Field>
        <Field
          label={t("attachmentSettings.maxMessage")}
          hint={t("attachmentSettings.maxMessageHint", { max: platformMessage })}
        >
          {(control) => (
            <input
              {...control}
              type="number"
              inputMode="decimal"
              required
              min={0.01}
              step={0.01}
              max={settings.platform_max_message_bytes / MIB}
              value={message}
              onChange={(e) => {
                setMessage(e.target.value);
                setSaved(false);
              }}
              data-testid="attachment-max-message"
            />
          )}
        </Field>
        {fileOverMessage && (
          <p className="field__error" role="alert">
            {t("attachmentSettings.fileOverMessage")}
          </p>
        )}
        {save.isError && <ErrorNotice error={save.error} />}
        {saved && (
          <p className="notice" role="status" data-testid="attachment-limits-saved">
            {t("attachmentSettings.saved")}
          </p>
        )}
        <div className="form__actions">
          <button
            type="submit"
            className="button button--primary"
            disabled={save.isPending || fileOverMessage}
            data-testid="attachment-limits-save"
          >
            {save.isPending ? t("attachmentSettings.saving") : t("attachmentSettings.save")}
          </button>
        </div>
      </form>
    </section>
  );
}

function StorageCard({ settings }: { settings: AttachmentSettings }) {
  const { t, i18n } = useTranslation();
  const used = formatBytes(settings.storage_used_bytes, i18n.language);
  const max = settings.storage_max_bytes;
  const percent =
    max === undefined ? null : max <= 0 ? 100 : Math.min(100, Math.floor((settings.storage_used_bytes * 100) / max));
  const tone = percent === null ? "none" : percent >= 95 ? "critical" : percent >= 80 ? "approaching" : "none";
  return (
    <section className="card" aria-labelledby="attachment-storage-title" data-testid="attachment-storage">
      <h2 id="attachment-storage-title">{t("attachmentSettings.storage")}</h2>
      <p data-testid="attachment-storage-used">
        {max === undefined
          ? t("attachmentSettings.storageUsedUnlimited", { used })
          : t("attachmentSettings.storageUsed", { used, max: formatBytes(max, i18n.language) })}
      </p>
      {percent !== null && (
        <progress
          className={`plan-meter plan-meter--${tone}`}
          max={100}
          value={percent}
          aria-label={t("attachmentSettings.storage")}
        />
      )}
      <p className="muted">{t("attachmentSettings.storageHint")}</p>
    </section>
  );
}
