import { useTranslation } from "react-i18next";
import type { SavedCard } from "../../api/types";
import { en } from "../../shared/i18n/en";

type KnownBrand = keyof typeof en.portal.payments.autopay.brands;

function isKnownBrand(brand: string): brand is KnownBrand {
  return Object.hasOwn(en.portal.payments.autopay.brands, brand);
}

/** "Visa •••• 4242": the brand as people know it (Stripe writes `visa`, `mastercard` …). */
export function useCardName() {
  const { t } = useTranslation();
  return (card: SavedCard) => {
    const code = card.brand.trim().toLowerCase();
    const brand = isKnownBrand(code)
      ? t(`portal.payments.autopay.brands.${code}`)
      : code.charAt(0).toUpperCase() + code.slice(1);
    return t("portal.payments.autopay.card", { brand, last4: card.last4 });
  };
}
