import { useTranslation } from "react-i18next";

export function Loading({ fill = false }: { fill?: boolean }) {
  const { t } = useTranslation();
  return (
    <div className={fill ? "loading loading--fill" : "loading"} role="status" aria-live="polite">
      <span className="loading__spinner" aria-hidden="true" />
      <span>{t("common.loading")}</span>
    </div>
  );
}
