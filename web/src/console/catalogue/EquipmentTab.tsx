import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useFormat } from "../../shared/i18n/format";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import {
  CODE_PATTERN,
  EQUIPMENT_KINDS,
  parsePrice,
  priceText,
  useCatalogueEquipment,
  useSaveEquipment,
  usePriceProblem,
  useSetOffered,
  type EquipmentItem,
  type EquipmentKind,
} from "./catalogue";
import { ArchiveButton, FieldError, OfferedBadge, SaveError } from "./parts";

const DESCRIPTION_MAX = 2000;

/** Equipment to buy or rent with running rentals; a form to add or edit an item. */
export function EquipmentTab() {
  const { t } = useTranslation();
  const format = useFormat();
  const list = useCatalogueEquipment();
  const offered = useSetOffered("equipment");
  const [editing, setEditing] = useState<EquipmentItem | null>();
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
    <section className="stack" aria-label={t("catalogue.tabs.equipment")}>
      <div className="catalogue-toolbar">
        <p className="muted">{t("catalogue.equipment.hint")}</p>
        {editing === undefined && (
          <button
            type="button"
            className="button button--primary"
            onClick={() => {
              setSaved(undefined);
              setEditing(null);
            }}
            data-testid="catalogue-new-equipment"
          >
            {t("catalogue.equipment.new")}
          </button>
        )}
      </div>
      {saved && (
        <p className="notice notice--success" role="status" data-testid="catalogue-saved">
          {saved}
        </p>
      )}
      {editing !== undefined && (
        <EquipmentForm
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
        <p className="card empty-state">{t("catalogue.equipment.empty")}</p>
      ) : (
        <div className="card table-card">
          <table className="data-table" data-testid="catalogue-equipment">
            <thead>
              <tr>
                <th scope="col">{t("catalogue.fields.name")}</th>
                <th scope="col">{t("catalogue.fields.purchasePrice")}</th>
                <th scope="col">{t("catalogue.fields.monthlyRent")}</th>
                <th scope="col">{t("catalogue.fields.stock")}</th>
                <th scope="col">{t("catalogue.equipment.rented")}</th>
                <th scope="col">{t("catalogue.status")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("billing.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.id} data-testid="catalogue-equipment-row" data-code={item.code} data-active={item.active}>
                  <td className="data-table__primary">
                    {item.name}
                    <span className="catalogue-code">
                      {t(`equipment.kinds.${item.kind}`)} · {item.code}
                    </span>
                  </td>
                  <td data-label={t("catalogue.fields.purchasePrice")}>
                    {item.purchase_price ? format.money(item.purchase_price) : "—"}
                  </td>
                  <td data-label={t("catalogue.fields.monthlyRent")}>
                    {item.monthly_rent ? format.money(item.monthly_rent) : "—"}
                  </td>
                  <td data-label={t("catalogue.fields.stock")}>
                    {item.stock === undefined ? t("catalogue.equipment.notCounted") : item.stock}
                  </td>
                  <td data-label={t("catalogue.equipment.rented")}>{item.rented}</td>
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

function EquipmentForm({
  item,
  currency,
  onDone,
}: {
  item?: EquipmentItem;
  currency: string;
  onDone: (savedName?: string) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const ids = {
    code: useId(),
    kind: useId(),
    name: useId(),
    description: useId(),
    purchase: useId(),
    rent: useId(),
    stock: useId(),
  };
  const save = useSaveEquipment();
  const priceProblem = usePriceProblem();
  const [code, setCode] = useState(item?.code ?? "");
  const [kind, setKind] = useState<EquipmentKind>(item?.kind ?? "router");
  const [name, setName] = useState(item?.name ?? "");
  const [description, setDescription] = useState(item?.description ?? "");
  const [purchase, setPurchase] = useState(item?.purchase_price ? priceText(item.purchase_price.minor, currency) : "");
  const [rent, setRent] = useState(item?.monthly_rent ? priceText(item.monthly_rent.minor, currency) : "");
  const [stock, setStock] = useState(item?.stock === undefined ? "" : String(item.stock));
  const [touched, setTouched] = useState(false);

  const stockNumber = Number(stock);
  const problems = {
    code: item || CODE_PATTERN.test(code.trim()) ? undefined : t("catalogue.problems.code"),
    name: name.trim() === "" ? t("catalogue.problems.name") : undefined,
    purchase:
      purchase.trim() === "" && rent.trim() === ""
        ? t("catalogue.problems.soldOrRented")
        : priceProblem(purchase, currency, false),
    rent: priceProblem(rent, currency, false),
    stock:
      stock.trim() === "" || (Number.isInteger(stockNumber) && stockNumber >= 0 && stockNumber <= 1_000_000)
        ? undefined
        : t("catalogue.problems.stock"),
  };
  const invalid = Object.values(problems).some(Boolean);
  const show = (text: string | undefined) => (touched ? text : undefined);
  const minor = (text: string): number | null => {
    if (text.trim() === "") return null;
    const parsed = parsePrice(text, currency);
    return parsed.ok ? parsed.minor : null;
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (invalid) return;
    save.mutate(
      {
        id: item?.id,
        code: code.trim(),
        fields: {
          kind,
          name: name.trim(),
          description: description.trim(),
          purchase_price_minor: minor(purchase),
          monthly_rent_minor: minor(rent),
          stock: stock.trim() === "" ? null : stockNumber,
        },
      },
      {
        onSuccess: (result) => {
          onDone(result.name);
        },
      },
    );
  }

  const symbol = format.currencySymbol(currency);
  return (
    <form className="card form catalogue-form" onSubmit={submit} noValidate data-testid="catalogue-equipment-form">
      <h2>{item ? t("catalogue.equipment.editTitle", { name: item.name }) : t("catalogue.equipment.newTitle")}</h2>
      {item && item.rented > 0 && (
        <p className="notice notice--info">{t("catalogue.equipment.rentKept", { count: item.rented })}</p>
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
          <label className="field__label" htmlFor={ids.kind}>
            {t("catalogue.fields.kind")}
          </label>
          <select
            id={ids.kind}
            value={kind}
            onChange={(e) => {
              setKind(e.target.value as EquipmentKind);
            }}
            data-testid="catalogue-kind"
          >
            {EQUIPMENT_KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`equipment.kinds.${k}`)}
              </option>
            ))}
          </select>
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
          <label className="field__label" htmlFor={ids.purchase}>
            {t("catalogue.fields.purchasePriceIn", { currency: symbol })}
          </label>
          <input
            id={ids.purchase}
            value={purchase}
            inputMode="decimal"
            aria-invalid={show(problems.purchase) ? true : undefined}
            aria-describedby={`${ids.purchase}-hint`}
            onChange={(e) => {
              setPurchase(e.target.value);
            }}
            data-testid="catalogue-purchase"
          />
          <p className="field__hint" id={`${ids.purchase}-hint`}>
            {t("catalogue.fields.notSoldHint")}
          </p>
          <FieldError text={show(problems.purchase)} />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={ids.rent}>
            {t("catalogue.fields.monthlyRentIn", { currency: symbol })}
          </label>
          <input
            id={ids.rent}
            value={rent}
            inputMode="decimal"
            aria-invalid={show(problems.rent) ? true : undefined}
            aria-describedby={`${ids.rent}-hint`}
            onChange={(e) => {
              setRent(e.target.value);
            }}
            data-testid="catalogue-rent"
          />
          <p className="field__hint" id={`${ids.rent}-hint`}>
            {t("catalogue.fields.notRentedHint")}
          </p>
          <FieldError text={show(problems.rent)} />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={ids.stock}>
            {t("catalogue.fields.stock")}
          </label>
          <input
            id={ids.stock}
            value={stock}
            inputMode="numeric"
            aria-invalid={show(problems.stock) ? true : undefined}
            aria-describedby={`${ids.stock}-hint`}
            onChange={(e) => {
              setStock(e.target.value);
            }}
            data-testid="catalogue-stock"
          />
          <p className="field__hint" id={`${ids.stock}-hint`}>
            {t("catalogue.fields.stockHint")}
          </p>
          <FieldError text={show(problems.stock)} />
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
