import { NavLink, useParams } from "react-router";
import { useTranslation } from "react-i18next";
import { usePageTitle } from "../../shared/site/site";
import { NotFound } from "../../shared/ui/NotFound";
import { CatalogueEditor } from "./CatalogueEditor";
import { ADDONS, EQUIPMENT, TARIFFS } from "./kinds";
import "./catalogue.css";

/**
 * The ISP's catalogue: tariffs (`/console/catalogue`), add-ons and equipment, each created,
 * edited and archived here. Items a manifest declares are updated again when it is re-applied.
 */
export function CataloguePage() {
  const { t } = useTranslation();
  usePageTitle(t("catalogue.title"));
  const { tab } = useParams();
  const tabs = [
    { to: "/console/catalogue", label: t("catalogue.tabs.tariffs"), id: "tariffs" },
    { to: "/console/catalogue/addons", label: t("catalogue.tabs.addons"), id: "addons" },
    { to: "/console/catalogue/equipment", label: t("catalogue.tabs.equipment"), id: "equipment" },
  ];
  const content =
    tab === undefined ? (
      <CatalogueEditor key="tariffs" kind={TARIFFS} />
    ) : tab === "addons" ? (
      <CatalogueEditor key="addons" kind={ADDONS} />
    ) : tab === "equipment" ? (
      <CatalogueEditor key="equipment" kind={EQUIPMENT} />
    ) : null;
  if (content === null) return <NotFound home="/console/catalogue" />;
  return (
    <div className="stack catalogue-page">
      <header className="page-header">
        <h1>{t("catalogue.title")}</h1>
        <p className="muted">{t("catalogue.intro")}</p>
      </header>
      <nav className="catalogue-tabs" aria-label={t("catalogue.title")}>
        {tabs.map((item) => (
          <NavLink key={item.id} to={item.to} end className="catalogue-tabs__tab" data-testid={`catalogue-tab-${item.id}`}>
            {item.label}
          </NavLink>
        ))}
      </nav>
      {content}
    </div>
  );
}
