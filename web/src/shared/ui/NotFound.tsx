import { useTranslation } from "react-i18next";
import { Link } from "react-router";

export function NotFound({ home }: { home: string }) {
  const { t } = useTranslation();
  return (
    <section className="card empty-state">
      <p>{t("common.notFound")}</p>
      <Link to={home} className="button">
        {t("common.toHome")}
      </Link>
    </section>
  );
}
