import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import type { Locale } from "../../api/types";
import { en } from "./en";
import { ru } from "./ru";

export const LOCALES: readonly Locale[] = ["ru", "en"];

/** Each language names itself, so the switcher is readable whatever is selected. */
export const LOCALE_NAMES: Record<Locale, string> = { ru: "Русский", en: "English" };

const STORAGE_KEY = "kabinet.locale";

function isLocale(value: string | null | undefined): value is Locale {
  return value === "ru" || value === "en";
}

function storedLocale(): Locale | null {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return isLocale(value) ? value : null;
  } catch {
    return null; // storage disabled (private mode, policies)
  }
}

function browserLocale(): Locale {
  return navigator.language.toLowerCase().startsWith("ru") ? "ru" : "en";
}

export function currentLocale(): Locale {
  return isLocale(i18n.resolvedLanguage) ? i18n.resolvedLanguage : "en";
}

/** The visitor's own choice wins; otherwise the ISP's default; otherwise the browser's. */
export function adoptDefaultLocale(siteDefault: Locale | undefined): void {
  const locale = storedLocale() ?? siteDefault ?? browserLocale();
  if (locale !== i18n.language) void i18n.changeLanguage(locale);
}

export function chooseLocale(locale: Locale): void {
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // The choice still applies for this visit.
  }
  void i18n.changeLanguage(locale);
}

i18n.on("languageChanged", (lng) => {
  document.documentElement.lang = lng;
});

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, ru: { translation: ru } },
  lng: storedLocale() ?? browserLocale(),
  fallbackLng: "en",
  supportedLngs: [...LOCALES],
  interpolation: { escapeValue: false }, // React escapes
});

export { i18n };
