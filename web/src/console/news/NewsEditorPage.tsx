import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import type { ConsoleNewsItem, Locale, NewsKind } from "../../api/types";
import { NewsBody } from "../../shared/news/NewsBody";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { NewsStateBadge } from "./NewsStateBadge";
import { useConsolePost, useNewsTargets, useSavePost, useSetPublished } from "./news";
import "../../shared/news/news.css";
import "./news-editor.css";

const TITLE_MAX = 200;
const BODY_MAX = 20_000;

/** "2026-12-01T09:00" in the browser's time zone, as a datetime-local input wants it. */
function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (the browser's time zone) as an instant; undefined when empty or invalid. */
function fromLocalInput(value: string): string | undefined {
  if (value === "") return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** New post (`/console/news/new`) or an existing one (`/console/news/:id`). */
export function NewsEditorPage() {
  const { t } = useTranslation();
  const { id } = useParams();
  const existing = id === undefined || id === "new" ? undefined : id;
  const post = useConsolePost(existing);
  usePageTitle(existing ? t("console.news.editTitle") : t("console.news.newTitle"));

  return (
    <div className="stack" data-testid="news-editor">
      <Link to="/console/news" className="back-link">
        ← {t("console.news.title")}
      </Link>
      {existing === undefined ? (
        <EditorForm />
      ) : post.isPending ? (
        <Loading />
      ) : post.isError ? (
        <ErrorNotice error={post.error} />
      ) : (
        <EditorForm key={post.data.id} post={post.data} />
      )}
    </div>
  );
}

function EditorForm({ post }: { post?: ConsoleNewsItem }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const ids = { title: useId(), body: useId(), locale: useId(), publish: useId(), expires: useId() };
  const targets = useNewsTargets();
  const save = useSavePost(post?.id);
  const toggle = useSetPublished();
  const [kind, setKind] = useState<NewsKind>(post?.kind ?? "news");
  const [title, setTitle] = useState(post?.title ?? "");
  const [body, setBody] = useState(post?.body ?? "");
  const [locale, setLocale] = useState<Locale | "">(post?.locale ?? "");
  // When the form opened: the default publication time, and what "in the future" is measured from.
  const [openedAt] = useState(() => new Date().toISOString());
  const [publishAt, setPublishAt] = useState(toLocalInput(post?.publish_at ?? openedAt));
  const [expiresAt, setExpiresAt] = useState(post?.expires_at ? toLocalInput(post.expires_at) : "");
  const [tariffs, setTariffs] = useState<string[]>(post?.target_tariffs ?? []);
  const [pinned, setPinned] = useState(post?.pinned ?? false);
  const [preview, setPreview] = useState(false);
  const [touched, setTouched] = useState(false);
  // A new post moves to its own address once saved; the notice comes along.
  const arrived: unknown = useLocation().state;
  const [saved, setSaved] = useState(
    typeof arrived === "object" && arrived !== null && "saved" in arrived && arrived.saved === true,
  );

  const publishIso = fromLocalInput(publishAt);
  const expiresIso = fromLocalInput(expiresAt);
  const problems = {
    title: title.trim() === "" ? t("console.news.problems.title") : undefined,
    body: body.trim() === "" ? t("console.news.problems.body") : undefined,
    publish: publishIso === undefined ? t("console.news.problems.publish") : undefined,
    expires:
      expiresAt !== "" && (expiresIso === undefined || (publishIso !== undefined && expiresIso <= publishIso))
        ? t("console.news.problems.expires")
        : undefined,
  };
  const invalid = Object.values(problems).some(Boolean);
  const scheduled = publishIso !== undefined && publishIso > openedAt;

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    setSaved(false);
    if (invalid || publishIso === undefined) return;
    save.mutate(
      {
        kind,
        title: title.trim(),
        body: body.trim(),
        locale: locale === "" ? undefined : locale,
        publish_at: publishIso,
        expires_at: expiresIso,
        target_tariffs: tariffs,
        pinned,
      },
      {
        onSuccess: (result) => {
          setSaved(true);
          if (!post) void navigate(`/console/news/${result.id}`, { replace: true, state: { saved: true } });
        },
      },
    );
  }

  const error = (text: string | undefined) => (touched && text ? <p className="field__error">{text}</p> : null);

  return (
    <form className="news-editor form" onSubmit={submit} noValidate data-testid="news-form">
      <header className="page-header page-header--row">
        <h1>{post ? t("console.news.editTitle") : t("console.news.newTitle")}</h1>
        {post && <NewsStateBadge state={post.state} />}
      </header>
      {saved && (
        <p className="notice notice--success" role="status" data-testid="news-saved">
          {scheduled ? t("console.news.savedScheduled") : t("console.news.saved")}
        </p>
      )}
      {post?.slug && <p className="notice notice--info">{t("console.news.fromManifest", { slug: post.slug })}</p>}

      <div className="news-editor__grid">
        <div className="card form">
          <fieldset className="news-editor__kinds">
            <legend className="field__label">{t("console.news.kind")}</legend>
            {(["news", "promotion"] as const).map((k) => (
              <label key={k} className="status-choice__option">
                <input
                  type="radio"
                  name="kind"
                  checked={kind === k}
                  onChange={() => {
                    setKind(k);
                  }}
                  data-testid={`news-kind-${k}`}
                />
                {t(`console.news.kinds.${k}`)}
              </label>
            ))}
          </fieldset>
          <div className="field">
            <label className="field__label" htmlFor={ids.title}>
              {t("console.news.postTitle")}
            </label>
            <input
              id={ids.title}
              value={title}
              maxLength={TITLE_MAX}
              aria-invalid={touched && problems.title ? true : undefined}
              onChange={(e) => {
                setTitle(e.target.value);
              }}
              data-testid="news-title-input"
            />
            {error(problems.title)}
          </div>
          <div className="field">
            <div className="news-editor__body-head">
              <label className="field__label" htmlFor={ids.body}>
                {t("console.news.body")}
              </label>
              <button
                type="button"
                className="button button--ghost button--small"
                onClick={() => {
                  setPreview(!preview);
                }}
                aria-pressed={preview}
              >
                {preview ? t("console.news.edit") : t("console.news.preview")}
              </button>
            </div>
            {preview ? (
              <div className="news-editor__preview">
                <NewsBody body={body} />
              </div>
            ) : (
              <textarea
                id={ids.body}
                rows={12}
                value={body}
                maxLength={BODY_MAX}
                aria-invalid={touched && problems.body ? true : undefined}
                aria-describedby={`${ids.body}-hint`}
                onChange={(e) => {
                  setBody(e.target.value);
                }}
                data-testid="news-body-input"
              />
            )}
            <p className="field__hint" id={`${ids.body}-hint`}>
              {t("console.news.bodyHint")}
            </p>
            {error(problems.body)}
          </div>
        </div>

        <div className="card form">
          <div className="field">
            <label className="field__label" htmlFor={ids.publish}>
              {t("console.news.publishAt")}
            </label>
            <input
              id={ids.publish}
              type="datetime-local"
              value={publishAt}
              aria-invalid={touched && problems.publish ? true : undefined}
              onChange={(e) => {
                setPublishAt(e.target.value);
              }}
              data-testid="news-publish-at"
            />
            <p className="field__hint">{t("console.news.publishHint")}</p>
            {error(problems.publish)}
          </div>
          <div className="field">
            <label className="field__label" htmlFor={ids.expires}>
              {t("console.news.expiresAt")}
            </label>
            <input
              id={ids.expires}
              type="datetime-local"
              value={expiresAt}
              aria-invalid={touched && problems.expires ? true : undefined}
              onChange={(e) => {
                setExpiresAt(e.target.value);
              }}
              data-testid="news-expires-at"
            />
            <p className="field__hint">{t("console.news.expiresHint")}</p>
            {error(problems.expires)}
          </div>
          <fieldset className="news-editor__tariffs">
            <legend className="field__label">{t("console.news.audience")}</legend>
            <p className="field__hint">{t("console.news.audienceHint")}</p>
            {targets.isError && <ErrorNotice error={targets.error} />}
            {targets.data?.tariffs.map((tariff) => (
              <label key={tariff.code} className="checkbox">
                <input
                  type="checkbox"
                  checked={tariffs.includes(tariff.code)}
                  onChange={(e) => {
                    setTariffs(
                      e.target.checked ? [...tariffs, tariff.code] : tariffs.filter((c) => c !== tariff.code),
                    );
                  }}
                  data-testid={`news-tariff-${tariff.code}`}
                />
                {tariff.name}
              </label>
            ))}
          </fieldset>
          <div className="field">
            <label className="field__label" htmlFor={ids.locale}>
              {t("console.news.language")}
            </label>
            <select
              id={ids.locale}
              value={locale}
              onChange={(e) => {
                const v = e.target.value;
                setLocale(v === "ru" || v === "en" ? v : "");
              }}
              data-testid="news-locale"
            >
              <option value="">{t("console.news.allLanguages")}</option>
              <option value="ru">{t("console.news.locales.ru")}</option>
              <option value="en">{t("console.news.locales.en")}</option>
            </select>
          </div>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={pinned}
              onChange={(e) => {
                setPinned(e.target.checked);
              }}
              data-testid="news-pinned"
            />
            {t("console.news.pinned")}
          </label>
        </div>
      </div>

      {save.error && <ErrorNotice error={save.error} />}
      {toggle.error && <ErrorNotice error={toggle.error} />}
      <div className="form__actions news-editor__actions">
        {post && (
          <button
            type="button"
            className="button"
            disabled={toggle.isPending}
            onClick={() => {
              toggle.mutate({ id: post.id, published: post.state === "unpublished" });
            }}
            data-testid={post.state === "unpublished" ? "news-publish" : "news-unpublish"}
          >
            {post.state === "unpublished" ? t("console.news.publish") : t("console.news.unpublish")}
          </button>
        )}
        <button type="submit" className="button button--primary" disabled={save.isPending} data-testid="news-save">
          {save.isPending
            ? t("console.news.saving")
            : scheduled
              ? t("console.news.schedule")
              : post
                ? t("console.news.save")
                : t("console.news.publishNow")}
        </button>
      </div>
    </form>
  );
}
