import {
  catalogueApi,
  EQUIPMENT_KINDS,
  parsePrice,
  priceText,
  type AddonFields,
  type AddonItem,
  type EquipmentFields,
  type EquipmentItem,
  type EquipmentKind,
  type TariffFields,
  type TariffItem,
} from "./catalogue";
import { DESCRIPTION_FIELD, NAME_FIELD, type CatalogueKind, type FieldSpec, type FormContext } from "./editor";

const MAX_SPEED = 100_000;
const MAX_STOCK = 1_000_000;

const PRICE_FIELD: FieldSpec = {
  key: "price",
  testId: "catalogue-price",
  control: "input",
  label: (t, currency) => t("catalogue.fields.monthlyPriceIn", { currency }),
  inputMode: "decimal",
};

function speedProblem(ctx: FormContext, text: string, required: boolean): string | undefined {
  if (text.trim() === "") return required ? ctx.t("catalogue.problems.speed") : undefined;
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 && n <= MAX_SPEED ? undefined : ctx.t("catalogue.problems.speed");
}

/** Minor units of a typed price; null when empty or not a price. */
function minorOrNull(text: string | undefined, currency: string): number | null {
  if (text === undefined || text.trim() === "") return null;
  const parsed = parsePrice(text, currency);
  return parsed.ok ? parsed.minor : null;
}

/** Tariffs with how many subscribers are on each. */
export const TARIFFS: CatalogueKind<TariffItem, TariffFields> = {
  section: "tariffs",
  one: "tariff",
  list: catalogueApi.tariffs.list,
  save: catalogueApi.tariffs.save,
  details: (item) => <span className="catalogue-code">{item.code}</span>,
  columns: [
    { label: (t) => t("catalogue.fields.monthlyPrice"), cell: (item, _t, format) => format.money(item.monthly_price) },
    {
      label: (t) => t("catalogue.fields.speed"),
      cell: (item, t) =>
        item.upload_speed_mbps === undefined
          ? t("catalogue.tariffs.speed", { speed: item.speed_mbps })
          : t("catalogue.tariffs.speedAsym", { down: item.speed_mbps, up: item.upload_speed_mbps }),
    },
    { label: (t) => t("catalogue.tariffs.subscribers"), cell: (item) => item.subscribers },
  ],
  fields: [
    NAME_FIELD,
    PRICE_FIELD,
    {
      key: "down",
      testId: "catalogue-speed",
      control: "input",
      label: (t) => t("catalogue.fields.download"),
      inputMode: "numeric",
    },
    {
      key: "up",
      testId: "catalogue-upload",
      control: "input",
      label: (t) => t("catalogue.fields.upload"),
      hint: (t) => t("catalogue.fields.uploadHint"),
      inputMode: "numeric",
    },
  ],
  initial: (item, currency) => ({
    price: item ? priceText(item.monthly_price.minor, currency) : "",
    down: item ? String(item.speed_mbps) : "",
    up: item?.upload_speed_mbps === undefined ? "" : String(item.upload_speed_mbps),
  }),
  problems: (values, ctx) => ({
    price: ctx.priceProblem(values.price ?? "", ctx.currency, true),
    down: speedProblem(ctx, values.down ?? "", true),
    up: speedProblem(ctx, values.up ?? "", false),
  }),
  toFields: (values, currency) => {
    const price = parsePrice(values.price ?? "", currency);
    if (!price.ok) return null;
    const up = values.up ?? "";
    return {
      monthly_price_minor: price.minor,
      speed_mbps: Number(values.down),
      upload_speed_mbps: up.trim() === "" ? null : Number(up),
    };
  },
  notice: (item, t) =>
    item.subscribers > 0 ? t("catalogue.tariffs.priceFromNextCharge", { count: item.subscribers }) : undefined,
};

/** Add-on services with how many subscribers have each. */
export const ADDONS: CatalogueKind<AddonItem, AddonFields> = {
  section: "addons",
  one: "addon",
  list: catalogueApi.addons.list,
  save: catalogueApi.addons.save,
  details: (item) => (
    <>
      <span className="catalogue-code">{item.code}</span>
      {item.description && <span className="catalogue-description">{item.description}</span>}
    </>
  ),
  columns: [
    { label: (t) => t("catalogue.fields.monthlyPrice"), cell: (item, _t, format) => format.money(item.monthly_price) },
    { label: (t) => t("catalogue.addons.subscribers"), cell: (item) => item.subscribers },
  ],
  fields: [NAME_FIELD, PRICE_FIELD, DESCRIPTION_FIELD],
  initial: (item, currency) => ({
    description: item?.description ?? "",
    price: item ? priceText(item.monthly_price.minor, currency) : "",
  }),
  problems: (values, ctx) => ({ price: ctx.priceProblem(values.price ?? "", ctx.currency, true) }),
  toFields: (values, currency) => {
    const price = parsePrice(values.price ?? "", currency);
    if (!price.ok) return null;
    return { description: (values.description ?? "").trim(), monthly_price_minor: price.minor };
  },
  notice: (item, t) =>
    item.subscribers > 0 ? t("catalogue.addons.priceFromNextCharge", { count: item.subscribers }) : undefined,
};

/** Equipment to buy or rent, with the rentals running. */
export const EQUIPMENT: CatalogueKind<EquipmentItem, EquipmentFields> = {
  section: "equipment",
  one: "equipment",
  list: catalogueApi.equipment.list,
  save: catalogueApi.equipment.save,
  details: (item, t) => (
    <span className="catalogue-code">
      {t(`equipment.kinds.${item.kind}`)} · {item.code}
    </span>
  ),
  columns: [
    {
      label: (t) => t("catalogue.fields.purchasePrice"),
      cell: (item, _t, format) => (item.purchase_price ? format.money(item.purchase_price) : "—"),
    },
    {
      label: (t) => t("catalogue.fields.monthlyRent"),
      cell: (item, _t, format) => (item.monthly_rent ? format.money(item.monthly_rent) : "—"),
    },
    {
      label: (t) => t("catalogue.fields.stock"),
      cell: (item, t) => (item.stock === undefined ? t("catalogue.equipment.notCounted") : item.stock),
    },
    { label: (t) => t("catalogue.equipment.rented"), cell: (item) => item.rented },
  ],
  fields: [
    {
      key: "kind",
      testId: "catalogue-kind",
      control: "select",
      label: (t) => t("catalogue.fields.kind"),
      options: (t) => EQUIPMENT_KINDS.map((k) => ({ value: k, label: t(`equipment.kinds.${k}`) })),
    },
    NAME_FIELD,
    {
      key: "purchase",
      testId: "catalogue-purchase",
      control: "input",
      label: (t, currency) => t("catalogue.fields.purchasePriceIn", { currency }),
      hint: (t) => t("catalogue.fields.notSoldHint"),
      inputMode: "decimal",
    },
    {
      key: "rent",
      testId: "catalogue-rent",
      control: "input",
      label: (t, currency) => t("catalogue.fields.monthlyRentIn", { currency }),
      hint: (t) => t("catalogue.fields.notRentedHint"),
      inputMode: "decimal",
    },
    {
      key: "stock",
      testId: "catalogue-stock",
      control: "input",
      label: (t) => t("catalogue.fields.stock"),
      hint: (t) => t("catalogue.fields.stockHint"),
      inputMode: "numeric",
    },
    DESCRIPTION_FIELD,
  ],
  initial: (item, currency) => ({
    kind: item?.kind ?? "router",
    description: item?.description ?? "",
    purchase: item?.purchase_price ? priceText(item.purchase_price.minor, currency) : "",
    rent: item?.monthly_rent ? priceText(item.monthly_rent.minor, currency) : "",
    stock: item?.stock === undefined ? "" : String(item.stock),
  }),
  problems: (values, ctx) => {
    const purchase = values.purchase ?? "";
    const rent = values.rent ?? "";
    const stock = values.stock ?? "";
    const stockNumber = Number(stock);
    return {
      purchase:
        purchase.trim() === "" && rent.trim() === ""
          ? ctx.t("catalogue.problems.soldOrRented")
          : ctx.priceProblem(purchase, ctx.currency, false),
      rent: ctx.priceProblem(rent, ctx.currency, false),
      stock:
        stock.trim() === "" || (Number.isInteger(stockNumber) && stockNumber >= 0 && stockNumber <= MAX_STOCK)
          ? undefined
          : ctx.t("catalogue.problems.stock"),
    };
  },
  toFields: (values, currency) => {
    const stock = values.stock ?? "";
    return {
      kind: (values.kind ?? "router") as EquipmentKind,
      description: (values.description ?? "").trim(),
      purchase_price_minor: minorOrNull(values.purchase, currency),
      monthly_rent_minor: minorOrNull(values.rent, currency),
      stock: stock.trim() === "" ? null : Number(stock),
    };
  },
  notice: (item, t) => (item.rented > 0 ? t("catalogue.equipment.rentKept", { count: item.rented }) : undefined),
};
