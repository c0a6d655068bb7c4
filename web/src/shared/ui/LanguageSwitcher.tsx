import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { Locale } from "../../api/types";
import { chooseLocale, currentLocale, LOCALE_NAMES, LOCALES } from "../i18n";

export function LanguageSwitcher() {
  const { t } = useTranslation();
  const id = useId();
  return (
    <div className="language-switcher">
      <label htmlFor={id} className="visually-hidden">
        {t("common.language")}
      </label>
      <select
        id={id}
        data-testid="language-switcher"
        value={currentLocale()}
        onChange={(e) => {
          chooseLocale(e.target.value as Locale);
        }}
      >
        {LOCALES.map((locale) => (
          <option key={locale} value={locale} lang={locale}>
            {LOCALE_NAMES[locale]}
          </option>
        ))}
      </select>
    </div>
  );
}
