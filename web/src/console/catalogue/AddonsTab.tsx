import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useFormat } from "../../shared/i18n/format";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import {
  CODE_PATTERN,
  parsePrice,
  priceText,
  useCatalogueAddons,
  useSaveAddon,
  usePriceProblem,
  useSetOffered,
  type AddonItem,
} from "./catalogue";
import { ArchiveButton, FieldError, OfferedBadge, SaveError } from "./parts";

const DESCRIPTION_MAX = 2000;

/** Add-on services with how many subscribers have each; a form to add or edit one. */
export function AddonsTab() {
  const { t } = useTranslation();
  const format = useFormat();
  const list = useCatalogueAddons();
  const offered = useSetOffered("addons");
  const [editing, setEditing] = useState<AddonItem | null>();
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

  return (
    <section className="stack" aria-label={t("catalogue.tabs.addons")}>
      <div className="catalogue-toolbar">
        <p className="muted">{t("catalogue.addons.hint")}</p>
        {editing === undefined && (
          <button
            type="button"
            className="button button--primary"
            onClick={() => {
              setSaved(undefined);
              setEditing(null);
            }}
            data-testid="catalogue-new-addon"
          >
            {t("catalogue.addons.new")}
          </button>
        )}
      </div>
      {saved && (
        <p className="notice notice--success" role="status" data-testid="catalogue-saved">
          {saved}
        </p>
      )}
      {editing !== undefined && (
        <AddonForm
          key={editing?.id ?? "new"}
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
        <p className="card empty-state">{t("catalogue.addons.empty")}</p>
      ) : (
        <div className="card table-card">
          <table className="data-table" data-testid="catalogue-addons">
            <thead>
              <tr>
                <th scope="col">{t("catalogue.fields.name")}</th>
                <th scope="col">{t("catalogue.fields.monthlyPrice")}</th>
                <th scope="col">{t("catalogue.addons.subscribers")}</th>
                <th scope="col">{t("catalogue.status")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("billing.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.id} data-testid="catalogue-addon-row" data-code={item.code} data-active={item.active}>
                  <td className="data-table__primary">
                    {item.name}
                    <span className="catalogue-code">{item.code}</span>
                    {item.description && <span className="catalogue-description">{item.description}</span>}
                  </td>
                  <td data-label={t("catalogue.fields.monthlyPrice")}>{format.money(item.monthly_price)}</td>
                  <td data-label={t("catalogue.addons.subscribers")}>{item.subscribers}</td>
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

function AddonForm({
  item,
  currency,
  onDone,
}: {
  item?: AddonItem;
  currency: string;
  onDone: (savedName?: string) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const ids = { code: useId(), name: useId(), description: useId(), price: useId() };
  const save = useSaveAddon();
  const priceProblem = usePriceProblem();
  const [code, setCode] = useState(item?.code ?? "");
  const [name, setName] = useState(item?.name ?? "");
  const [description, setDescription] = useState(item?.description ?? "");
  const [price, setPrice] = useState(item ? priceText(item.monthly_price.minor, currency) : "");
  const [touched, setTouched] = useState(false);

  const problems = {
    code: item || CODE_PATTERN.test(code.trim()) ? undefined : t("catalogue.problems.code"),
    name: name.trim() === "" ? t("catalogue.problems.name") : undefined,
    price: priceProblem(price, currency, true),
  };
  const invalid = Object.values(problems).some(Boolean);
  const parsedPrice = parsePrice(price, currency);
  const show = (text: string | undefined) => (touched ? text : undefined);

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (invalid || !parsedPrice.ok) return;
    save.mutate(
      {
        id: item?.id,
        code: code.trim(),
        fields: { name: name.trim(), description: description.trim(), monthly_price_minor: parsedPrice.minor },
      },
      {
        onSuccess: (result) => {
          onDone(result.name);
        },
      },
    );
  }

  return (
    <form className="card form catalogue-form" onSubmit={submit} noValidate data-testid="catalogue-addon-form">
      <h2>{item ? t("catalogue.addons.editTitle", { name: item.name }) : t("catalogue.addons.newTitle")}</h2>
      {item && item.subscribers > 0 && (
        <p className="notice notice--info">{t("catalogue.addons.priceFromNextCharge", { count: item.subscribers })}</p>
      )}
      <div className="catalogue-form__grid">
        <div className="field">
          <label className="field__label" htmlFor={ids.code}>
            {t("catalogue.fields.code")}
          </label>
          <input
            id={ids.code}
            value={code}
            disabled={item !== undefined}
            maxLength={64}
            autoCapitalize="off"
            spellCheck={false}
            aria-invalid={show(problems.code) ? true : undefined}
            aria-describedby={`${ids.code}-hint`}
            onChange={(e) => {
              setCode(e.target.value);
            }}
            data-testid="catalogue-code"
          />
          <p className="field__hint" id={`${ids.code}-hint`}>
            {item ? t("catalogue.fields.codeFixed") : t("catalogue.fields.codeHint")}
          </p>
          <FieldError text={show(problems.code)} />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={ids.name}>
            {t("catalogue.fields.name")}
          </label>
          <input
            id={ids.name}
            value={name}
            maxLength={200}
            aria-invalid={show(problems.name) ? true : undefined}
            onChange={(e) => {
              setName(e.target.value);
            }}
            data-testid="catalogue-name"
          />
          <FieldError text={show(problems.name)} />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={ids.price}>
            {t("catalogue.fields.monthlyPriceIn", { currency: format.currencySymbol(currency) })}
          </label>
          <input
            id={ids.price}
            value={price}
            inputMode="decimal"
            aria-invalid={show(problems.price) ? true : undefined}
            onChange={(e) => {
              setPrice(e.target.value);
            }}
            data-testid="catalogue-price"
          />
          <FieldError text={show(problems.price)} />
        </div>
        <div className="field catalogue-form__wide">
          <label className="field__label" htmlFor={ids.description}>
            {t("catalogue.fields.description")}
          </label>
          <textarea
            id={ids.description}
            rows={3}
            value={description}
            maxLength={DESCRIPTION_MAX}
            onChange={(e) => {
              setDescription(e.target.value);
            }}
            data-testid="catalogue-description"
          />
        </div>
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
