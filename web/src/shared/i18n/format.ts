import { useTranslation } from "react-i18next";
import type { Money } from "../../api/types";

const fractionDigitsCache = new Map<string, number>();

/** ISO 4217 minor-unit exponent (RUB 2, JPY 0, BHD 3) as the runtime's Intl knows it. */
export function minorUnitDigits(currency: string): number {
  let digits = fractionDigitsCache.get(currency);
  if (digits === undefined) {
    digits =
      new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    fractionDigitsCache.set(currency, digits);
  }
  return digits;
}

/** `signed` writes "+" before amounts above zero too (a movement that raised the balance). */
export function formatMoney(money: Money, locale: string, signed = false): string {
  const digits = minorUnitDigits(money.currency);
  return new Intl.NumberFormat(locale, {
    style: "currency",
    currency: money.currency,
    // "₽1,234.50" rather than "RUB 1,234.50" in English.
    currencyDisplay: "narrowSymbol",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: signed ? "exceptZero" : "auto",
  }).format(money.minor / 10 ** digits);
}

/** The currency's symbol as amounts show it ("₽", "€"), for labels such as "Amount, ₽". */
export function currencySymbol(currency: string, locale: string): string {
  const parts = new Intl.NumberFormat(locale, { style: "currency", currency, currencyDisplay: "narrowSymbol" }).formatToParts(0);
  return parts.find((p) => p.type === "currency")?.value ?? currency;
}

export function formatDateTime(iso: string, locale: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** "1 December 2026" / "1 декабря 2026 г." in the visitor's time zone. */
export function formatDate(iso: string, locale: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: "long" }).format(date);
}

/** Formatters bound to the language on screen; re-renders when the visitor switches it. */
export function useFormat() {
  const { i18n } = useTranslation();
  const locale = i18n.resolvedLanguage ?? "en";
  return {
    money: (money: Money) => formatMoney(money, locale),
    /** "+500,00 ₽" / "−120,00 ₽": a change of the balance. */
    signedMoney: (money: Money) => formatMoney(money, locale, true),
    currencySymbol: (currency: string) => currencySymbol(currency, locale),
    /** "2026-11" → "November 2026" / "ноябрь 2026 г."; anything else as it came. */
    month: (yearMonth: string) => {
      const match = /^(\d{4})-(\d{2})$/.exec(yearMonth);
      if (!match) return yearMonth;
      const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
      return new Intl.DateTimeFormat(locale, { month: "long", year: "numeric", timeZone: "UTC" }).format(date);
    },
    dateTime: (iso: string) => formatDateTime(iso, locale),
    /** An instant as a date only: "1 December 2026". */
    date: (iso: string) => formatDate(iso, locale),
    /** A calendar day the API wrote as "2026-11-28" (no time, no zone): never shifted by a zone. */
    day: (ymd: string) => {
      const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
      if (!match) return ymd;
      const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
      return new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" }).format(date);
    },
    /** 3 → "3 days" / "3 дня", with the language's plural forms. */
    days: (count: number) => new Intl.NumberFormat(locale, { style: "unit", unit: "day", unitDisplay: "long" }).format(count),
    number: (value: number) => new Intl.NumberFormat(locale).format(value),
    /**
     * How long ago `iso` was: "5 minutes ago" / "5 минут назад" within a day, the date and time
     * beyond that; `undefined` under a minute (the caller says "just now" in its own words).
     */
    ago: (iso: string, now = Date.now()) => {
      const time = new Date(iso).getTime();
      if (Number.isNaN(time)) return iso;
      const minutes = Math.round((now - time) / 60_000);
      if (minutes < 1) return undefined;
      const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
      if (minutes < 60) return rtf.format(-minutes, "minute");
      if (minutes < 24 * 60) return rtf.format(-Math.floor(minutes / 60), "hour");
      return formatDateTime(iso, locale);
    },
    /** 100 → "100", 1000 → "1", 2500 → "2.5" with the unit the caller picks via `gigabit`. */
    speed: (mbps: number) =>
      mbps >= 1000 && mbps % 100 === 0
        ? { gigabit: true, value: new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(mbps / 1000) }
        : { gigabit: false, value: new Intl.NumberFormat(locale).format(mbps) },
  };
}
