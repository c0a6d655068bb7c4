import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import { amountProblemMessage } from "../../shared/billing/amountMessage";
import { parseMajorAmount, type AmountProblem } from "../../shared/billing/amount";
import { minorUnitDigits, useFormat } from "../../shared/i18n/format";

/** Tariffs, add-ons and equipment: create, edit, archive (owner and admin by default). */
export const CATALOGUE_MANAGE = "catalogue.manage";

/** The API's upper bound for a catalogue price, in minor units (10 000 000.00). */
export const MAX_PRICE_MINOR = 1_000_000_000;

const catalogueKey = ["console", "catalogue"] as const;

const fetchTariffs = () => data(api.GET("/console/catalogue/tariffs"));
const fetchAddons = () => data(api.GET("/console/catalogue/addons"));
const fetchEquipment = () => data(api.GET("/console/catalogue/equipment"));

export type TariffList = Awaited<ReturnType<typeof fetchTariffs>>;
export type TariffItem = TariffList["items"][number];
export type AddonList = Awaited<ReturnType<typeof fetchAddons>>;
export type AddonItem = AddonList["items"][number];
export type EquipmentList = Awaited<ReturnType<typeof fetchEquipment>>;
export type EquipmentItem = EquipmentList["items"][number];
export type EquipmentKind = EquipmentItem["kind"];

export const EQUIPMENT_KINDS: readonly EquipmentKind[] = ["router", "ont", "modem", "tv_box", "cable", "other"];

export type CatalogueSection = "tariffs" | "addons" | "equipment";

/** What every section's items have: the editor lists, edits and archives them alike. */
export interface CatalogueItemBase {
  id: string;
  code: string;
  name: string;
  active: boolean;
}

export interface CatalogueListOf<Item> {
  currency: string;
  items: Item[];
}

/** Create (no id, with a code) or change (with an id) an item with its editable fields. */
export interface SaveInput<Fields> {
  id?: string;
  code: string;
  fields: Fields;
}

export const catalogueApi = {
  tariffs: {
    list: fetchTariffs,
    save: (input: SaveInput<TariffFields>) =>
      input.id === undefined
        ? data(api.POST("/console/catalogue/tariffs", { body: { code: input.code, ...input.fields } }))
        : data(api.PUT("/console/catalogue/tariffs/{id}", { params: { path: { id: input.id } }, body: input.fields })),
  },
  addons: {
    list: fetchAddons,
    save: (input: SaveInput<AddonFields>) =>
      input.id === undefined
        ? data(api.POST("/console/catalogue/addons", { body: { code: input.code, ...input.fields } }))
        : data(api.PUT("/console/catalogue/addons/{id}", { params: { path: { id: input.id } }, body: input.fields })),
  },
  equipment: {
    list: fetchEquipment,
    save: (input: SaveInput<EquipmentFields>) =>
      input.id === undefined
        ? data(api.POST("/console/catalogue/equipment", { body: { code: input.code, ...input.fields } }))
        : data(
            api.PUT("/console/catalogue/equipment/{id}", { params: { path: { id: input.id } }, body: input.fields }),
          ),
  },
} as const;

/** A section's items with the ISP's currency. */
export function useCatalogueList<Item>(section: CatalogueSection, list: () => Promise<CatalogueListOf<Item>>) {
  return useQuery({ queryKey: [...catalogueKey, section], queryFn: list });
}

/** Creates an item (with a code) or changes one (with an id); the catalogue is fetched again. */
export function useSaveItem<Fields>(save: (input: SaveInput<Fields>) => Promise<{ name: string }>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: save,
    onSettled: () => client.invalidateQueries({ queryKey: catalogueKey }),
  });
}

export interface TariffFields {
  name: string;
  monthly_price_minor: number;
  speed_mbps: number;
  upload_speed_mbps: number | null;
}

export interface AddonFields {
  name: string;
  description: string;
  monthly_price_minor: number;
}

export interface EquipmentFields {
  kind: EquipmentKind;
  name: string;
  description: string;
  purchase_price_minor: number | null;
  monthly_rent_minor: number | null;
  stock: number | null;
}

/** Archives (`active: false`) or puts back on offer an item of a section. */
export function useSetOffered(section: CatalogueSection) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, active }: { id: string; active: boolean }) => {
      const params = { params: { path: { id } } };
      return data(
        active
          ? api.POST(`/console/catalogue/${section}/{id}/unarchive`, params)
          : api.POST(`/console/catalogue/${section}/{id}/archive`, params),
      );
    },
    onSettled: () => client.invalidateQueries({ queryKey: catalogueKey }),
  });
}

export const CODE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A price typed in major units ("550", "550,00"); zero is a price too (a free tariff). */
export function parsePrice(
  input: string,
  currency: string,
): { ok: true; minor: number } | { ok: false; problem: AmountProblem } {
  const parsed = parseMajorAmount(input, minorUnitDigits(currency), MAX_PRICE_MINOR);
  if (!parsed.ok && parsed.problem === "zero") return { ok: true, minor: 0 };
  return parsed;
}

/** Minor units as the price field shows them for editing: "550.00" (no grouping). */
export function priceText(minor: number, currency: string): string {
  const digits = minorUnitDigits(currency);
  return digits === 0 ? String(minor) : (minor / 10 ** digits).toFixed(digits);
}

/** The price problem to show under a price field, if any. */
export function usePriceProblem() {
  const { t } = useTranslation();
  const format = useFormat();
  return (text: string, currency: string, required: boolean): string | undefined => {
    if (text.trim() === "") return required ? t("catalogue.problems.price") : undefined;
    const parsed = parsePrice(text, currency);
    if (parsed.ok) return undefined;
    return amountProblemMessage(
      t,
      parsed.problem,
      minorUnitDigits(currency),
      format.money({ minor: MAX_PRICE_MINOR, currency }),
    );
  };
}

