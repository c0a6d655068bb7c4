import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useFormat } from "../../shared/i18n/format";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import {
  CODE_PATTERN,
  useCatalogueList,
  usePriceProblem,
  useSaveItem,
  useSetOffered,
  type CatalogueItemBase,
} from "./catalogue";
import { CODE_FIELD, type CatalogueKind, type FormValues } from "./editor";
import { ArchiveButton, FieldError, OfferedBadge, SaveError } from "./parts";

/** A section's items with a form to add or edit one, and archiving. */
export function CatalogueEditor<Item extends CatalogueItemBase, Fields extends { name: string }>({
  kind,
}: {
  kind: CatalogueKind<Item, Fields>;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const list = useCatalogueList(kind.section, kind.list);
  const offered = useSetOffered(kind.section);
  // undefined: no form; null: a new item; an item: editing it.
  const [editing, setEditing] = useState<Item | null>();
  const [saved, setSaved] = useState<string>();

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
  const { items, currency } = list.data;
  const { section, one } = kind;

  return (
    <section className="stack" aria-label={t(`catalogue.tabs.${section}`)}>
      <div className="catalogue-toolbar">
        <p className="muted">{t(`catalogue.${section}.hint`)}</p>
        {editing === undefined && (
          <button
            type="button"
            className="button button--primary"
            onClick={() => {
              setSaved(undefined);
              setEditing(null);
            }}
            data-testid={`catalogue-new-${one}`}
          >
            {t(`catalogue.${section}.new`)}
          </button>
        )}
      </div>
      {saved && (
        <p className="notice notice--success" role="status" data-testid="catalogue-saved">
          {saved}
        </p>
      )}
      {editing !== undefined && (
        <ItemForm
          key={editing?.id ?? "new"}
          kind={kind}
          item={editing ?? undefined}
          currency={currency}
          onDone={(name) => {
            setEditing(undefined);
            if (name) setSaved(t("catalogue.savedItem", { name }));
          }}
        />
      )}
      {offered.error && <ErrorNotice error={offered.error} />}
      {items.length === 0 ? (
        <p className="card empty-state">{t(`catalogue.${section}.empty`)}</p>
      ) : (
        <div className="card table-card">
          <table className="data-table" data-testid={`catalogue-${section}`}>
            <thead>
              <tr>
                <th scope="col">{t("catalogue.fields.name")}</th>
                {kind.columns.map((column) => {
                  const label = column.label(t);
                  return (
                    <th key={label} scope="col">
                      {label}
                    </th>
                  );
                })}
                <th scope="col">{t("catalogue.status")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("billing.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.id} data-testid={`catalogue-${one}-row`} data-code={item.code} data-active={item.active}>
                  <td className="data-table__primary">
                    {item.name}
                    {kind.details(item, t)}
                  </td>
                  {kind.columns.map((column) => {
                    const label = column.label(t);
                    return (
                      <td key={label} data-label={label}>
                        {column.cell(item, t, format)}
                      </td>
                    );
                  })}
                  <td data-label={t("catalogue.status")}>
                    <OfferedBadge active={item.active} />
                  </td>
                  <td className="catalogue-actions">
                    <button
                      type="button"
                      className="button button--small"
                      onClick={() => {
                        setSaved(undefined);
                        setEditing(item);
                      }}
                      data-testid="catalogue-edit"
                    >
                      {t("catalogue.edit")}
                    </button>
                    <ArchiveButton id={item.id} active={item.active} offered={offered} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ItemForm<Item extends CatalogueItemBase, Fields extends { name: string }>({
  kind,
  item,
  currency,
  onDone,
}: {
  kind: CatalogueKind<Item, Fields>;
  item?: Item;
  currency: string;
  onDone: (savedName?: string) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const id = useId();
  const save = useSaveItem(kind.save);
  const priceProblem = usePriceProblem();
  const [values, setValues] = useState<FormValues>(() => ({
    ...kind.initial(item, currency),
    code: item?.code ?? "",
    name: item?.name ?? "",
  }));
  const [touched, setTouched] = useState(false);
  const value = (key: string) => values[key] ?? "";

  const problems: Record<string, string | undefined> = {
    code: item || CODE_PATTERN.test(value("code").trim()) ? undefined : t("catalogue.problems.code"),
    name: value("name").trim() === "" ? t("catalogue.problems.name") : undefined,
    ...kind.problems(values, { t, currency, priceProblem }),
  };
  const invalid = Object.values(problems).some(Boolean);
  const show = (text: string | undefined) => (touched ? text : undefined);

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (invalid) return;
    const rest = kind.toFields(values, currency);
    if (rest === null) return;
    save.mutate(
      { id: item?.id, code: value("code").trim(), fields: { name: value("name").trim(), ...rest } as Fields },
      {
        onSuccess: (result) => {
          onDone(result.name);
        },
      },
    );
  }

  const symbol = format.currencySymbol(currency);
  const notice = item && kind.notice?.(item, t);
  return (
    <form className="card form catalogue-form" onSubmit={submit} noValidate data-testid={`catalogue-${kind.one}-form`}>
      <h2>{item ? t(`catalogue.${kind.section}.editTitle`, { name: item.name }) : t(`catalogue.${kind.section}.newTitle`)}</h2>
      {notice && <p className="notice notice--info">{notice}</p>}
      <div className="catalogue-form__grid">
        {[CODE_FIELD, ...kind.fields].map((field) => {
          const fieldId = `${id}-${field.key}`;
          const hintId = `${fieldId}-hint`;
          const problem = show(problems[field.key]);
          const common = {
            id: fieldId,
            value: value(field.key),
            "aria-invalid": problem ? true : undefined,
            "aria-describedby": field.hint ? hintId : undefined,
            "data-testid": field.testId,
          };
          const onChange = (e: { target: { value: string } }) => {
            const next = e.target.value;
            setValues((current) => ({ ...current, [field.key]: next }));
          };
          return (
            <div key={field.key} className={field.wide ? "field catalogue-form__wide" : "field"}>
              <label className="field__label" htmlFor={fieldId}>
                {field.label(t, symbol)}
              </label>
              {field.control === "textarea" ? (
                <textarea {...common} rows={3} maxLength={field.maxLength} onChange={onChange} />
              ) : field.control === "select" ? (
                <select {...common} onChange={onChange}>
                  {field.options?.(t).map((option) => (
                    <option key={option.value} value={option.value}>
                      {option.label}
                    </option>
                  ))}
                </select>
              ) : field.key === "code" ? (
                <input
                  {...common}
                  disabled={item !== undefined}
                  maxLength={field.maxLength}
                  autoCapitalize="off"
                  spellCheck={false}
                  onChange={onChange}
                />
              ) : (
                <input {...common} inputMode={field.inputMode} maxLength={field.maxLength} onChange={onChange} />
              )}
              {field.hint && (
                <p className="field__hint" id={hintId}>
                  {field.hint(t, item !== undefined)}
                </p>
              )}
              <FieldError text={problem} />
            </div>
          );
        })}
      </div>
      {save.error && <SaveError error={save.error} />}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={save.isPending} data-testid="catalogue-save">
          {t("catalogue.save")}
        </button>
        <button
          type="button"
          className="button"
          onClick={() => {
            onDone();
          }}
        >
          {t("catalogue.cancel")}
        </button>
      </div>
    </form>
  );
}
