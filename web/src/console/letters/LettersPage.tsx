import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Field } from "../../shared/ui/Field";
import { Loading } from "../../shared/ui/Loading";
import { SETTINGS_MANAGE, useHasPermission } from "../subscribers/billing";
import {
  type LetterTemplate,
  useLetterTemplates,
  usePreviewLetter,
  useResetLetterTemplate,
  useSaveLetterTemplate,
} from "./letters";
import "./letters.css";

const keyOf = (l: LetterTemplate) => `${l.kind}:${l.language}`;

/** What each placeholder the server lists stands for, in the editor's words. */
const PLACEHOLDERS = {
  "subscriber.name": "subscriber_name",
  "ticket.number": "ticket_number",
  "ticket.subject": "ticket_subject",
  "ticket.status": "ticket_status",
  "merged_into.number": "merged_into_number",
  "isp.name": "isp_name",
} as const;

function placeholderKey(name: string) {
  return name in PLACEHOLDERS ? PLACEHOLDERS[name as keyof typeof PLACEHOLDERS] : undefined;
}

/** The ISP's own wording of the letters subscribers get about their tickets, per language. */
export function LettersPage() {
  const { t } = useTranslation();
  usePageTitle(t("letters.title"));
  const mayManage = useHasPermission(SETTINGS_MANAGE);
  const letters = useLetterTemplates();
  const [selected, setSelected] = useState<string | null>(null);
  if (!mayManage) {
    return <p className="muted">{t("letters.forbidden")}</p>;
  }
  const items = letters.data?.items ?? [];
  const current = items.find((l) => keyOf(l) === selected) ?? items.at(0);
  return (
    <div className="stack">
      <header className="page-header">
        <h1>{t("letters.title")}</h1>
        <p className="muted">{t("letters.intro")}</p>
      </header>
      {letters.isPending && <Loading />}
      {letters.isError && <ErrorNotice error={letters.error} />}
      {current && (
        <div className="letters">
          <nav className="letters__list card" aria-label={t("letters.listLabel")}>
            <ul>
              {items.map((l) => (
                <li key={keyOf(l)}>
                  <button
                    type="button"
                    className={`letters__item${keyOf(l) === keyOf(current) ? " letters__item--current" : ""}`}
                    aria-current={keyOf(l) === keyOf(current) || undefined}
                    data-testid={`letter-${l.kind}-${l.language}`}
                    onClick={() => {
                      setSelected(keyOf(l));
                    }}
                  >
                    <span>{t(`letters.kinds.${l.kind}`)}</span>
                    <span className="letters__meta">
                      {t(`letters.languages.${l.language}`)} ·{" "}
                      {l.customized ? t("letters.customized") : t("letters.builtIn")}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          <LetterEditor key={keyOf(current)} letter={current} />
        </div>
      )}
    </div>
  );
}

function LetterEditor({ letter }: { letter: LetterTemplate }) {
  const { t } = useTranslation();
  const [subject, setSubject] = useState(letter.subject);
  const [body, setBody] = useState(letter.body);
  const [saved, setSaved] = useState(false);
  const save = useSaveLetterTemplate(letter.kind, letter.language);
  const reset = useResetLetterTemplate(letter.kind, letter.language);
  const preview = usePreviewLetter();
  const error = save.error ?? reset.error ?? preview.error;

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    save.mutate(
      { subject, body },
      {
        onSuccess: () => {
          setSaved(true);
        },
      },
    );
  }

  return (
    <section className="letters__editor stack" aria-labelledby="letter-editor-title">
      <form className="card form" onSubmit={submit} data-testid="letter-form">
        <h2 id="letter-editor-title">
          {t(`letters.kinds.${letter.kind}`)} — {t(`letters.languages.${letter.language}`)}
        </h2>
        <p className="muted">{t(`letters.when.${letter.kind}`)}</p>
        <Field label={t("letters.subject")}>
          {(p) => (
            <input
              {...p}
              required
              maxLength={200}
              value={subject}
              onChange={(e) => {
                setSaved(false);
                setSubject(e.target.value);
              }}
              data-testid="letter-subject"
            />
          )}
        </Field>
        <Field label={t("letters.body")} hint={t("letters.bodyHint")}>
          {(p) => (
            <textarea
              {...p}
              required
              rows={8}
              maxLength={5000}
              value={body}
              onChange={(e) => {
                setSaved(false);
                setBody(e.target.value);
              }}
              data-testid="letter-body"
            />
          )}
        </Field>
        <div className="letters__placeholders">
          <span className="muted">{t("letters.placeholders")}</span>
          <ul>
            {letter.placeholders.map((name) => {
              const key = placeholderKey(name);
              return (
                <li key={name}>
                  <code>{`{{${name}}}`}</code> {key !== undefined && t(`letters.placeholder.${key}`)}
                </li>
              );
            })}
          </ul>
        </div>
        {error != null && <ErrorNotice error={error} />}
        {saved && (
          <p className="notice notice--success" role="status">
            {t("letters.saved")}
          </p>
        )}
        <div className="form__actions">
          <button type="submit" className="button button--primary" disabled={save.isPending} data-testid="letter-save">
            {t("letters.save")}
          </button>
          <button
            type="button"
            className="button"
            disabled={preview.isPending}
            onClick={() => {
              preview.mutate({ kind: letter.kind, language: letter.language, subject, body });
            }}
            data-testid="letter-preview"
          >
            {t("letters.preview")}
          </button>
          {letter.customized && (
            <button
              type="button"
              className="button"
              disabled={reset.isPending}
              onClick={() => {
                if (!window.confirm(t("letters.resetConfirm"))) return;
                setSaved(false);
                reset.mutate(undefined, {
                  onSuccess: (builtIn) => {
                    setSubject(builtIn.subject);
                    setBody(builtIn.body);
                  },
                });
              }}
              data-testid="letter-reset"
            >
              {t("letters.reset")}
            </button>
          )}
        </div>
      </form>
      {preview.data && (
        <section className="card letters__preview" aria-label={t("letters.previewTitle")} data-testid="letter-preview-result">
          <h2>{t("letters.previewTitle")}</h2>
          <p>
            <span className="muted">{t("letters.subject")}:</span>{" "}
            <strong data-testid="letter-preview-subject">{preview.data.subject}</strong>
          </p>
          {/* The server escaped every value; the sandbox runs nothing and reaches nothing. */}
          <iframe
            title={t("letters.previewTitle")}
            sandbox=""
            srcDoc={preview.data.html}
            className="letters__frame"
            data-testid="letter-preview-html"
          />
        </section>
      )}
    </section>
  );
}
