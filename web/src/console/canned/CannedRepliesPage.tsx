import { useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { usePageTitle } from "../../shared/site/site";
import { Field } from "../../shared/ui/Field";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useHasPermission } from "../subscribers/billing";
import { CANNED_MANAGE, useCannedReplies, useDeleteCannedReply, useSaveCannedReply, type CannedReply } from "./canned";
import "./canned.css";

interface Draft {
  id: string | undefined;
  title: string;
  body: string;
  category: string;
}

const EMPTY: Draft = { id: undefined, title: "", body: "", category: "" };

/** The editor: title, category and body, with the placeholders one click away. */
function CannedForm({
  draft,
  placeholders,
  onDone,
}: {
  draft: Draft;
  placeholders: readonly string[];
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const [value, setValue] = useState(draft);
  const body = useRef<HTMLTextAreaElement>(null);
  const save = useSaveCannedReply(draft.id);

  function insert(placeholder: string) {
    const area = body.current;
    const at = area?.selectionStart ?? value.body.length;
    const end = area?.selectionEnd ?? at;
    setValue({ ...value, body: value.body.slice(0, at) + placeholder + value.body.slice(end) });
    area?.focus();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate(
      { title: value.title.trim(), body: value.body, category: value.category.trim() === "" ? null : value.category },
      { onSuccess: onDone },
    );
  }

  return (
    <form className="card form" onSubmit={submit} data-testid="canned-form">
      <h2>{draft.id === undefined ? t("ticketTools.canned.new") : t("ticketTools.canned.edit")}</h2>
      <Field label={t("ticketTools.canned.title")}>
        {(props) => (
          <input
            {...props}
            required
            maxLength={120}
            value={value.title}
            onChange={(e) => {
              setValue({ ...value, title: e.target.value });
            }}
            data-testid="canned-title"
          />
        )}
      </Field>
      <Field label={t("ticketTools.canned.category")} hint={t("ticketTools.canned.categoryHint")}>
        {(props) => (
          <input
            {...props}
            maxLength={40}
            value={value.category}
            onChange={(e) => {
              setValue({ ...value, category: e.target.value });
            }}
            data-testid="canned-category"
          />
        )}
      </Field>
      <Field label={t("ticketTools.canned.body")} hint={t("ticketTools.canned.bodyHint")}>
        {(props) => (
          <textarea
            {...props}
            ref={body}
            rows={7}
            required
            maxLength={20000}
            value={value.body}
            onChange={(e) => {
              setValue({ ...value, body: e.target.value });
            }}
            data-testid="canned-body"
          />
        )}
      </Field>
      <div className="canned-placeholders" aria-label={t("ticketTools.canned.placeholders")}>
        {placeholders.map((p) => (
          <button
            key={p}
            type="button"
            className="button button--small button--ghost"
            onClick={() => {
              insert(p);
            }}
            data-testid="canned-placeholder"
          >
            <code>{p}</code>
          </button>
        ))}
      </div>
      {save.error != null && <ErrorNotice error={save.error} />}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={save.isPending} data-testid="canned-save">
          {t("ticketTools.canned.save")}
        </button>
        <button type="button" className="button button--ghost" onClick={onDone}>
          {t("ticketTools.canned.cancel")}
        </button>
      </div>
    </form>
  );
}

/** Settings: the team's canned replies, searchable, with create, edit and delete. */
export function CannedRepliesPage() {
  const { t } = useTranslation();
  usePageTitle(t("ticketTools.canned.pageTitle"));
  const mayManage = useHasPermission(CANNED_MANAGE);
  const [q, setQ] = useState("");
  const [draft, setDraft] = useState<Draft | null>(null);
  // A new key per opened draft, so the form starts from that draft's values.
  const [formKey, setFormKey] = useState(0);
  const list = useCannedReplies(q);
  const remove = useDeleteCannedReply();
  const items = list.data?.items ?? [];

  function edit(next: Draft) {
    setDraft(next);
    setFormKey((k) => k + 1);
  }

  function confirmDelete(c: CannedReply) {
    if (window.confirm(t("ticketTools.canned.confirmDelete", { title: c.title }))) {
      remove.mutate(c.id);
    }
  }

  return (
    <div className="stack">
      <header className="page-header page-header--row">
        <div>
          <h1>{t("ticketTools.canned.pageTitle")}</h1>
          <p>{t("ticketTools.canned.pageLead")}</p>
        </div>
        {mayManage && (
          <button
            type="button"
            className="button button--primary"
            onClick={() => {
              edit(EMPTY);
            }}
            data-testid="canned-new"
          >
            {t("ticketTools.canned.new")}
          </button>
        )}
      </header>
      <div className="canned-page">
        <section className="stack" aria-label={t("ticketTools.canned.pageTitle")}>
          <Field label={t("ticketTools.canned.search")}>
            {(props) => (
              <input
                {...props}
                type="search"
                value={q}
                placeholder={t("ticketTools.canned.searchHint")}
                onChange={(e) => {
                  setQ(e.target.value);
                }}
                data-testid="canned-page-search"
              />
            )}
          </Field>
          {list.isPending && <Loading />}
          {list.isError && <ErrorNotice error={list.error} />}
          {remove.error != null && <ErrorNotice error={remove.error} />}
          {list.isSuccess && items.length === 0 && <p className="card empty-state">{t("ticketTools.canned.none")}</p>}
          <ul className="canned-list" data-testid="canned-list">
            {items.map((c) => (
              <li key={c.id} className="card canned-list__item" data-testid="canned-row">
                <div className="canned-list__head">
                  <strong>{c.title}</strong>
                  {c.category && <span className="badge badge--neutral">{c.category}</span>}
                </div>
                <p className="canned-list__body">{c.body}</p>
                {mayManage && (
                  <div className="desk-panel__row">
                    <button
                      type="button"
                      className="button button--small"
                      onClick={() => {
                        edit({ id: c.id, title: c.title, body: c.body, category: c.category ?? "" });
                      }}
                      data-testid="canned-edit"
                    >
                      {t("ticketTools.canned.edit")}
                    </button>
                    <button
                      type="button"
                      className="button button--small button--ghost"
                      disabled={remove.isPending}
                      onClick={() => {
                        confirmDelete(c);
                      }}
                      data-testid="canned-delete"
                    >
                      {t("ticketTools.canned.delete")}
                    </button>
                  </div>
                )}
              </li>
            ))}
          </ul>
        </section>
        {draft !== null && (
          <CannedForm
            key={formKey}
            draft={draft}
            placeholders={list.data?.placeholders ?? []}
            onDone={() => {
              setDraft(null);
            }}
          />
        )}
      </div>
    </div>
  );
}
