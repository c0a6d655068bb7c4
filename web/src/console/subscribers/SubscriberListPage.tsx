import { useEffect, useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router";
import { ACCOUNT_STATUS_TONE } from "../../shared/billing/status";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useHasPermission } from "./billing";
import { ProblemDetail } from "./ProblemDetail";
import { EMPTY_DRAFT, orNull, type SubscriberDraft } from "./draft";
import { SubscriberFields } from "./SubscriberFields";
import { SUBSCRIBERS_WRITE, useCreateSubscriber, useSubscriberSearch } from "./subscribers";
import "./subscribers.css";

/** Subscriber search (one box for every field), results, and the "new subscriber" form. */
export function SubscriberListPage() {
  const { t } = useTranslation();
  usePageTitle(t("console.subscribers.title"));
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const [text, setText] = useState(q);
  const mayWrite = useHasPermission(SUBSCRIBERS_WRITE);
  const [creating, setCreating] = useState(false);
  const id = useId();

  // Typing searches after a short pause; the query lives in the URL so a result can be shared.
  useEffect(() => {
    const handle = window.setTimeout(() => {
      if (text.trim() !== q) setParams(text.trim() === "" ? {} : { q: text.trim() }, { replace: true });
    }, 300);
    return () => {
      window.clearTimeout(handle);
    };
  }, [text, q, setParams]);

  function submit(event: FormEvent) {
    event.preventDefault();
    setParams(text.trim() === "" ? {} : { q: text.trim() }, { replace: true });
  }

  return (
    <div className="stack subscribers-page">
      <header className="page-header page-header--row">
        <h1>{t("console.subscribers.title")}</h1>
        {mayWrite && (
          <div className="page-header__actions">
            <Link to="/console/subscribers/import" className="button" data-testid="subscribers-import-link">
              {t("console.subscribers.import.link")}
            </Link>
            <button
              type="button"
              className="button button--primary"
              onClick={() => {
                setCreating((c) => !c);
              }}
              aria-expanded={creating}
              data-testid="subscriber-new"
            >
              {t("console.subscribers.new")}
            </button>
          </div>
        )}
      </header>
      {creating && (
        <NewSubscriberForm
          onClose={() => {
            setCreating(false);
          }}
        />
      )}
      <form className="subscriber-search" role="search" onSubmit={submit}>
        <label htmlFor={id} className="visually-hidden">
          {t("console.subscribers.searchLabel")}
        </label>
        <input
          id={id}
          type="search"
          autoComplete="off"
          spellCheck={false}
          maxLength={100}
          placeholder={t("console.subscribers.searchPlaceholder")}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
          }}
          data-testid="subscriber-search-input"
        />
        <button type="submit" className="button" data-testid="subscriber-search-submit">
          {t("console.find.submit")}
        </button>
      </form>
      <Results q={q} />
    </div>
  );
}

function Results({ q }: { q: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const list = useSubscriberSearch(q);
  const items = list.data?.pages.flatMap((page) => page.items) ?? [];
  if (list.isPending) return <Loading />;
  if (list.isError)
    return (
      <ErrorNotice
        error={list.error}
        onRetry={() => {
          void list.refetch();
        }}
      />
    );
  if (items.length === 0)
    return (
      <p className="card empty-state" data-testid="subscriber-search-empty">
        {t("console.subscribers.none")}
      </p>
    );
  return (
    <>
      <div className="card table-card">
        <table className="data-table" data-testid="subscriber-results">
          <thead>
            <tr>
              <th scope="col">{t("console.subscribers.fields.account_number")}</th>
              <th scope="col">{t("console.subscribers.fields.full_name")}</th>
              <th scope="col">{t("console.subscribers.contacts")}</th>
              <th scope="col">{t("console.subscriber.balance")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.account_number} data-testid="subscriber-row" data-account={s.account_number}>
                <td className="data-table__primary">
                  <Link to={`/console/subscribers/${encodeURIComponent(s.account_number)}`} data-testid="subscriber-link">
                    {s.account_number}
                  </Link>
                </td>
                <td data-label={t("console.subscribers.fields.full_name")}>
                  {/* One child: the phone layout lays a cell's children out as columns. */}
                  <div>
                    {s.full_name}
                    {s.address && <span className="subscriber-results__address">{s.address}</span>}
                  </div>
                </td>
                <td data-label={t("console.subscribers.contacts")}>
                  <span className="subscriber-results__contacts">
                    {[s.phone, s.email].filter(Boolean).join(" · ") || "—"}
                  </span>
                </td>
                <td data-label={t("console.subscriber.balance")}>
                  <span>
                    {s.balance ? format.money(s.balance) : "—"}{" "}
                    {s.status && (
                      <Badge tone={ACCOUNT_STATUS_TONE[s.status]}>{t(`account.status.${s.status}`)}</Badge>
                    )}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.hasNextPage && (
        <button
          type="button"
          className="button"
          disabled={list.isFetchingNextPage}
          onClick={() => {
            void list.fetchNextPage();
          }}
          data-testid="subscriber-more"
        >
          {t("console.subscribers.more")}
        </button>
      )}
    </>
  );
}

function NewSubscriberForm({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const create = useCreateSubscriber();
  const [draft, setDraft] = useState<SubscriberDraft>(EMPTY_DRAFT);
  const [password, setPassword] = useState("");
  const [invite, setInvite] = useState(false);
  const id = useId();

  function submit(event: FormEvent) {
    event.preventDefault();
    if (create.isPending) return;
    create.mutate(
      {
        account_number: draft.account_number.trim(),
        full_name: draft.full_name.trim(),
        email: orNull(draft.email),
        phone: orNull(draft.phone),
        address: orNull(draft.address),
        tariff: orNull(draft.tariff),
        initial_password: password === "" ? null : password,
        send_invitation: invite,
      },
      {
        onSuccess: (created) => {
          onClose();
          void navigate(`/console/subscribers/${encodeURIComponent(created.subscriber.account_number)}`);
        },
      },
    );
  }

  return (
    <form className="card form subscriber-form" onSubmit={submit} data-testid="subscriber-new-form">
      <h2>{t("console.subscribers.new")}</h2>
      <div className="subscriber-form__grid">
        <SubscriberFields draft={draft} onChange={setDraft} withAccountNumber />
        <div className="field">
          <label className="field__label" htmlFor={`${id}-password`}>
            {t("console.subscribers.fields.initial_password")}
          </label>
          <input
            id={`${id}-password`}
            type="password"
            autoComplete="new-password"
            maxLength={1024}
            value={password}
            onChange={(e) => {
              setPassword(e.target.value);
            }}
            aria-describedby={`${id}-password-hint`}
            data-testid="subscriber-field-password"
          />
          <p className="field__hint" id={`${id}-password-hint`}>
            {t("console.subscribers.passwordHint")}
          </p>
        </div>
      </div>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={invite}
          onChange={(e) => {
            setInvite(e.target.checked);
          }}
          data-testid="subscriber-field-invite"
        />{" "}
        {t("console.subscribers.sendInvitation")}
      </label>
      {create.isError && <ProblemDetail error={create.error} />}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={create.isPending} data-testid="subscriber-create">
          {t("console.subscribers.create")}
        </button>
        <button type="button" className="button button--ghost" onClick={onClose}>
          {t("console.subscribers.cancel")}
        </button>
      </div>
    </form>
  );
}
