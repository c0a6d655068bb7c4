/** What the catalogue editor is told about a section: its list, columns and form fields. */
import type { TFunction } from "i18next";
import type { ReactNode } from "react";
import type { useFormat } from "../../shared/i18n/format";
import type { CatalogueItemBase, CatalogueListOf, CatalogueSection, SaveInput } from "./catalogue";

type T = TFunction;
type Format = ReturnType<typeof useFormat>;

/** The form's values as typed, by field key (`code` and `name` are always there). */
export type FormValues = Record<string, string>;

/** What a field's check and the conversion to the API's fields get besides the values. */
export interface FormContext {
  t: T;
  currency: string;
  /** The problem under a price field (`required`: empty is a problem too). */
  priceProblem: (text: string, currency: string, required: boolean) => string | undefined;
}

/** One form field: its input, label and hint. The value is a string in `FormValues[key]`. */
export interface FieldSpec {
  key: string;
  testId: string;
  control: "input" | "textarea" | "select";
  label: (t: T, currencySymbol: string) => string;
  /** `editing`: an existing item (the code's hint says it is fixed). */
  hint?: (t: T, editing: boolean) => string;
  inputMode?: "decimal" | "numeric";
  maxLength?: number;
  /** A full-width row (descriptions). */
  wide?: boolean;
  /** For a select: the values and their labels. */
  options?: (t: T) => readonly { value: string; label: string }[];
}

/** A column of the list after the name (status and actions come last in every section). */
export interface ColumnSpec<Item> {
  label: (t: T) => string;
  cell: (item: Item, t: T, format: Format) => ReactNode;
}

/**
 * A catalogue section as the editor shows it: the list, its columns, the form's fields, their
 * checks and how the typed values become the API's fields. One per section (tariffs, add-ons,
 * equipment); the editor itself is the same for all.
 */
export interface CatalogueKind<Item extends CatalogueItemBase, Fields> {
  section: CatalogueSection;
  /** One item in test ids: `catalogue-new-<one>`, `catalogue-<one>-row`, `catalogue-<one>-form`. */
  one: "tariff" | "addon" | "equipment";
  list: () => Promise<CatalogueListOf<Item>>;
  save: (input: SaveInput<Fields>) => Promise<{ name: string }>;
  /** What follows the name in the list's first cell (code, kind, description). */
  details: (item: Item, t: T) => ReactNode;
  columns: readonly ColumnSpec<Item>[];
  /** The form's fields after the code (the code always comes first). */
  fields: readonly FieldSpec[];
  /** The values the form starts with: an item's, or a new one's (`item` undefined). */
  initial: (item: Item | undefined, currency: string) => FormValues;
  /** The problems of the section's own fields (code and name are checked by the editor). */
  problems: (values: FormValues, ctx: FormContext) => Record<string, string | undefined>;
  /** The API's fields from valid values; null when a value does not parse. */
  toFields: (values: FormValues, currency: string) => Omit<Fields, "name"> | null;
  /** A notice above an existing item's form (who is affected by a change). */
  notice?: (item: Item, t: T) => string | undefined;
}

export const CODE_FIELD: FieldSpec = {
  key: "code",
  testId: "catalogue-code",
  control: "input",
  label: (t) => t("catalogue.fields.code"),
  hint: (t, editing) => t(editing ? "catalogue.fields.codeFixed" : "catalogue.fields.codeHint"),
  maxLength: 64,
};

export const NAME_FIELD: FieldSpec = {
  key: "name",
  testId: "catalogue-name",
  control: "input",
  label: (t) => t("catalogue.fields.name"),
  maxLength: 200,
};

export const DESCRIPTION_FIELD: FieldSpec = {
  key: "description",
  testId: "catalogue-description",
  control: "textarea",
  label: (t) => t("catalogue.fields.description"),
  maxLength: 2000,
  wide: true,
};

