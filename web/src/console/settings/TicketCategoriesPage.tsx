import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import { BUILT_IN_CATEGORIES, type BuiltInCategory, type ConsoleTicketCategory, type TicketCategoryKind } from "../../api/types";
import { usePageTitle } from "../../shared/site/site";
import { categoriesKey } from "../../shared/tickets/categories";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Field } from "../../shared/ui/Field";
import { Loading } from "../../shared/ui/Loading";
import { SETTINGS_MANAGE, useHasPermission } from "../subscribers/billing";
import "./ticket-categories.css";

const listKey = [...categoriesKey, "console-editor"] as const;
const CODE = /^[a-z][a-z0-9_]{1,39}$/;

/** Every change refreshes this page's list and every picker that reads the categories. */
function useRefresh() {
  const client = useQueryClient();
  return (items?: ConsoleTicketCategory[]) => {
    if (items) client.setQueryData(listKey, { items });
    void client.invalidateQueries({ queryKey: categoriesKey });
  };
}

/**
 * `/console/settings/ticket-categories`: the ISP's ticket categories. Add its own (with the
 * built-in kind that decides how it behaves), rename any in Russian and English, put them in
 * order, switch them off (old tickets keep theirs) and delete an unused one of its own.
 */
export function TicketCategoriesPage() {
  const { t } = useTranslation();
  usePageTitle(t("ticketCategories.title"));
  const mayManage = useHasPermission(SETTINGS_MANAGE);
  const list = useQuery({ queryKey: listKey, queryFn: () => data(api.GET("/console/ticket-categories")) });
  const refresh = useRefresh();
  const reorder = useMutation({
    mutationFn: (codes: string[]) => data(api.PUT("/console/ticket-category-order", { body: { codes } })),
    onSuccess: (fresh) => {
      refresh(fresh.items);
    },
  });
  const items = list.data?.items ?? [];
  function move(index: number, by: -1 | 1) {
    const codes = items.map((c) => c.code);
    const [code] = codes.splice(index, 1);
    if (code === undefined) return;
    codes.splice(index + by, 0, code);
    reorder.mutate(codes);
  }
  return (
    <div className="stack ticket-categories" data-testid="ticket-categories-page">
      <header className="page-header">
        <h1>{t("ticketCategories.title")}</h1>
        <p className="muted">{t("ticketCategories.intro")}</p>
      </header>
      {list.isPending && <Loading />}
      {list.isError && <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />}
      {reorder.isError && <ErrorNotice error={reorder.error} />}
      {list.data && (
        <ol className="ticket-categories__list" data-testid="ticket-categories-list">
          {items.map((c, i) => (
            <CategoryRow
              key={c.code}
              category={c}
              mayManage={mayManage}
              first={i === 0}
              last={i === items.length - 1}
              moving={reorder.isPending}
              onMove={(by) => {
                move(i, by);
              }}
            />
          ))}
        </ol>
      )}
      {mayManage && <AddForm />}
    </div>
  );
}

function CategoryRow({
  category: c,
  mayManage,
  first,
  last,
  moving,
  onMove,
}: {
  category: ConsoleTicketCategory;
  mayManage: boolean;
  first: boolean;
  last: boolean;
  moving: boolean;
  onMove: (by: -1 | 1) => void;
}) {
  const { t, i18n } = useTranslation();
  const refresh = useRefresh();
  const [editing, setEditing] = useState(false);
  const [nameRu, setNameRu] = useState(c.name_ru ?? "");
  const [nameEn, setNameEn] = useState(c.name_en ?? "");
  const update = useMutation({
    mutationFn: (body: { name_ru?: string; name_en?: string; active: boolean }) =>
      data(api.PUT("/console/ticket-categories/{code}", { params: { path: { code: c.code } }, body })),
    onSuccess: () => {
      setEditing(false);
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: () => data(api.DELETE("/console/ticket-categories/{code}", { params: { path: { code: c.code } } })),
    onSuccess: () => {
      refresh();
    },
  });
  const names = (active: boolean) => ({
    name_ru: nameRu.trim() === "" ? undefined : nameRu.trim(),
    name_en: nameEn.trim() === "" ? undefined : nameEn.trim(),
    active,
  });
  const shown = i18n.language.startsWith("en") ? c.display_name_en : c.display_name_ru;
  function save(event: FormEvent) {
    event.preventDefault();
    update.mutate(names(c.active));
  }
  return (
    <li
      className={`card ticket-category ${c.active ? "" : "ticket-category--off"}`}
      data-testid="ticket-category-row"
      data-code={c.code}
    >
      <div className="ticket-category__head">
        <div className="ticket-category__names">
          <strong data-testid="ticket-category-name">{shown}</strong>
          <span className="muted">
            <code>{c.code}</code> · {t("ticketCategories.kind")}: {t(`ticket.categories.${c.kind}`)}
            {" · "}
            {t("ticketCategories.tickets", { count: c.tickets })}
          </span>
        </div>
        <div className="ticket-category__badges">
          {c.built_in && <span className="badge badge--neutral">{t("ticketCategories.builtIn")}</span>}
          {!c.active && (
            <span className="badge badge--warning" data-testid="ticket-category-off">
              {t("ticketCategories.off")}
            </span>
          )}
        </div>
      </div>
      {mayManage && !editing && (
        <div className="ticket-category__actions">
          <button
            type="button"
            className="button button--small"
            disabled={first || moving}
            aria-label={t("ticketCategories.up", { name: shown })}
            onClick={() => {
              onMove(-1);
            }}
            data-testid="ticket-category-up"
          >
            ↑
          </button>
          <button
            type="button"
            className="button button--small"
            disabled={last || moving}
            aria-label={t("ticketCategories.down", { name: shown })}
            onClick={() => {
              onMove(1);
            }}
            data-testid="ticket-category-down"
          >
            ↓
          </button>
          <button
            type="button"
            className="button button--small"
            onClick={() => {
              setEditing(true);
            }}
            data-testid="ticket-category-rename"
          >
            {t("ticketCategories.rename")}
          </button>
          <button
            type="button"
            className="button button--small"
            disabled={update.isPending}
            onClick={() => {
              update.mutate({ name_ru: c.name_ru ?? undefined, name_en: c.name_en ?? undefined, active: !c.active });
            }}
            data-testid="ticket-category-toggle"
          >
            {c.active ? t("ticketCategories.deactivate") : t("ticketCategories.activate")}
          </button>
          {!c.built_in && c.tickets === 0 && (
            <button
              type="button"
              className="button button--small button--ghost"
              disabled={remove.isPending}
              onClick={() => {
                if (window.confirm(t("ticketCategories.confirmDelete", { name: shown }))) remove.mutate();
              }}
              data-testid="ticket-category-delete"
            >
              {t("ticketCategories.delete")}
            </button>
          )}
        </div>
      )}
      {editing && (
        <form className="form ticket-category__form" onSubmit={save} data-testid="ticket-category-form">
          <Field
            label={t("ticketCategories.nameRu")}
            hint={c.built_in ? t("ticketCategories.builtInHint", { name: t(`ticket.categories.${c.code as BuiltInCategory}`, { lng: "ru" }) }) : undefined}
          >
            {(control) => (
              <input
                {...control}
                maxLength={80}
                value={nameRu}
                onChange={(e) => {
                  setNameRu(e.target.value);
                }}
                data-testid="ticket-category-name-ru"
              />
            )}
          </Field>
          <Field
            label={t("ticketCategories.nameEn")}
            hint={c.built_in ? t("ticketCategories.builtInHint", { name: t(`ticket.categories.${c.code as BuiltInCategory}`, { lng: "en" }) }) : undefined}
          >
            {(control) => (
              <input
                {...control}
                maxLength={80}
                value={nameEn}
                onChange={(e) => {
                  setNameEn(e.target.value);
                }}
                data-testid="ticket-category-name-en"
              />
            )}
          </Field>
          {update.isError && <ErrorNotice error={update.error} />}
          <div className="form__actions">
            <button
              type="submit"
              className="button button--primary"
              disabled={update.isPending}
              data-testid="ticket-category-save"
            >
              {t("ticketCategories.save")}
            </button>
            <button
              type="button"
              className="button"
              onClick={() => {
                setEditing(false);
                setNameRu(c.name_ru ?? "");
                setNameEn(c.name_en ?? "");
              }}
            >
              {t("ticketCategories.cancel")}
            </button>
          </div>
        </form>
      )}
      {!editing && update.isError && <ErrorNotice error={update.error} />}
      {remove.isError && <ErrorNotice error={remove.error} />}
    </li>
  );
}

function AddForm() {
  const { t } = useTranslation();
  const refresh = useRefresh();
  const [code, setCode] = useState("");
  const [kind, setKind] = useState<TicketCategoryKind>("other");
  const [nameRu, setNameRu] = useState("");
  const [nameEn, setNameEn] = useState("");
  const create = useMutation({
    mutationFn: () =>
      data(
        api.POST("/console/ticket-categories", {
          body: {
            code,
            kind,
            name_ru: nameRu.trim() === "" ? undefined : nameRu.trim(),
            name_en: nameEn.trim() === "" ? undefined : nameEn.trim(),
          },
        }),
      ),
    onSuccess: () => {
      setCode("");
      setNameRu("");
      setNameEn("");
      setKind("other");
      refresh();
    },
  });
  const codeOk = CODE.test(code);
  const named = nameRu.trim() !== "" || nameEn.trim() !== "";
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!codeOk || !named) return;
    create.mutate();
  }
  return (
    <section className="card" aria-labelledby="ticket-category-add-title">
      <h2 id="ticket-category-add-title">{t("ticketCategories.addTitle")}</h2>
      <form className="form ticket-category__form" onSubmit={submit} data-testid="ticket-category-add">
        <Field label={t("ticketCategories.code")} hint={t("ticketCategories.codeHint")}>
          {(control) => (
            <input
              {...control}
              required
              maxLength={40}
              pattern="[a-z][a-z0-9_]{1,39}"
              value={code}
              onChange={(e) => {
                setCode(e.target.value.trim().toLowerCase());
              }}
              data-testid="ticket-category-code"
            />
          )}
        </Field>
        <Field label={t("ticketCategories.kind")} hint={t("ticketCategories.kindHint")}>
          {(control) => (
            <select
              {...control}
              value={kind}
              onChange={(e) => {
                setKind(e.target.value as TicketCategoryKind);
              }}
              data-testid="ticket-category-kind"
            >
              {BUILT_IN_CATEGORIES.map((k) => (
                <option key={k} value={k}>
                  {t(`ticket.categories.${k}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("ticketCategories.nameRu")}>
          {(control) => (
            <input
              {...control}
              maxLength={80}
              value={nameRu}
              onChange={(e) => {
                setNameRu(e.target.value);
              }}
              data-testid="ticket-category-new-ru"
            />
          )}
        </Field>
        <Field label={t("ticketCategories.nameEn")}>
          {(control) => (
            <input
              {...control}
              maxLength={80}
              value={nameEn}
              onChange={(e) => {
                setNameEn(e.target.value);
              }}
              data-testid="ticket-category-new-en"
            />
          )}
        </Field>
        {!named && code !== "" && <p className="field__hint">{t("ticketCategories.needName")}</p>}
        {create.isError && <ErrorNotice error={create.error} />}
        <div className="form__actions">
          <button
            type="submit"
            className="button button--primary"
            disabled={create.isPending || !codeOk || !named}
            data-testid="ticket-category-create"
          >
            {t("ticketCategories.add")}
          </button>
        </div>
      </form>
    </section>
  );
}
