import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { NewsBody } from "../../shared/news/NewsBody";
import { usePageTitle } from "../../shared/site/site";
import { useTicketCategories } from "../../shared/tickets/categories";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Field } from "../../shared/ui/Field";
import { Loading } from "../../shared/ui/Loading";
import { useConsoleKbArticle, useSaveKbArticle, type KbInput } from "./kb";
import "../../shared/news/news.css";

type Article = NonNullable<ReturnType<typeof useConsoleKbArticle>["data"]>;

/** New article (`/console/kb/new`) or an existing one (`/console/kb/:id`). */
export function KbEditorPage() {
  const { t } = useTranslation();
  const { id } = useParams();
  const existing = id === undefined || id === "new" ? undefined : id;
  const article = useConsoleKbArticle(existing);
  usePageTitle(existing ? t("console.kb.editTitle") : t("console.kb.newTitle"));
  return (
    <div className="stack narrow" data-testid="kb-editor">
      <Link to="/console/kb" className="back-link">
        ← {t("console.kb.title")}
      </Link>
      {existing === undefined ? (
        <EditorForm />
      ) : article.isPending ? (
        <Loading />
      ) : article.isError ? (
        <ErrorNotice error={article.error} />
      ) : (
        <EditorForm key={article.data.id} article={article.data} />
      )}
    </div>
  );
}

function EditorForm({ article }: { article?: Article }) {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const save = useSaveKbArticle(article?.id);
  const [title, setTitle] = useState(article?.title ?? "");
  const [body, setBody] = useState(article?.body ?? "");
  const [locale, setLocale] = useState<"ru" | "en">(
    article?.locale ?? (i18n.resolvedLanguage === "ru" ? "ru" : "en"),
  );
  const categories = useTicketCategories("staff");
  const [category, setCategory] = useState(article?.category ?? "");
  const [saved, setSaved] = useState(false);

  function submit(published: boolean) {
    return (event?: FormEvent) => {
      event?.preventDefault();
      const input: KbInput = {
        title: title.trim(),
        body: body.trim(),
        locale,
        category: category === "" ? null : category,
        published,
      };
      save.mutate(input, {
        onSuccess: (a) => {
          setSaved(true);
          if (article === undefined) void navigate(`/console/kb/${a.id}`, { replace: true });
        },
      });
    };
  }
  const published = article?.published_at !== undefined;

  return (
    <section className="card" aria-labelledby="kb-editor-title">
      <h1 id="kb-editor-title">{article ? t("console.kb.editTitle") : t("console.kb.newTitle")}</h1>
      <p className="muted">
        {published ? t("console.kb.isPublished") : t("console.kb.isDraft")}
      </p>
      <form className="form" onSubmit={submit(published)} data-testid="kb-form">
        <Field label={t("console.kb.articleTitle")}>
          {(control) => (
            <input
              {...control}
              required
              maxLength={200}
              value={title}
              onChange={(e) => {
                setTitle(e.target.value);
              }}
              data-testid="kb-title"
            />
          )}
        </Field>
        <Field label={t("console.kb.body")} hint={t("console.kb.bodyHint")}>
          {(control) => (
            <textarea
              {...control}
              required
              rows={12}
              maxLength={20000}
              value={body}
              onChange={(e) => {
                setBody(e.target.value);
              }}
              data-testid="kb-body"
            />
          )}
        </Field>
        <Field label={t("console.kb.language")}>
          {(control) => (
            <select
              {...control}
              value={locale}
              onChange={(e) => {
                setLocale(e.target.value === "en" ? "en" : "ru");
              }}
              data-testid="kb-locale"
            >
              <option value="ru">Русский</option>
              <option value="en">English</option>
            </select>
          )}
        </Field>
        <Field label={t("ticket.category")}>
          {(control) => (
            <select
              {...control}
              value={category}
              onChange={(e) => {
                setCategory(e.target.value);
              }}
              data-testid="kb-category"
            >
              <option value="">{t("console.kb.noCategory")}</option>
              {categories.all
                .filter((c) => c.active || c.code === category)
                .map((c) => (
                  <option key={c.code} value={c.code}>
                    {c.name}
                  </option>
                ))}
            </select>
          )}
        </Field>
        {save.isError && <ErrorNotice error={save.error} />}
        {saved && !save.isPending && !save.isError && (
          <p role="status" className="muted" data-testid="kb-saved">
            {t("console.kb.saved")}
          </p>
        )}
        <div className="form__actions">
          <button type="submit" className="button" disabled={save.isPending} data-testid="kb-save">
            {t("console.kb.save")}
          </button>
          {published ? (
            <button
              type="button"
              className="button"
              disabled={save.isPending}
              onClick={submit(false)}
              data-testid="kb-unpublish"
            >
              {t("console.kb.unpublish")}
            </button>
          ) : (
            <button
              type="button"
              className="button button--primary"
              disabled={save.isPending || title.trim() === "" || body.trim() === ""}
              onClick={submit(true)}
              data-testid="kb-publish"
            >
              {t("console.kb.publish")}
            </button>
          )}
        </div>
      </form>
      {body.trim() !== "" && (
        <details className="kb-preview">
          <summary>{t("console.kb.preview")}</summary>
          <NewsBody body={body} />
        </details>
      )}
    </section>
  );
}
