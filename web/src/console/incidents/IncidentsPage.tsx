import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { NETWORK_READ, useNasList } from "../network/network";
import { useHasPermission } from "../subscribers/billing";
import { ProblemDetail } from "../subscribers/ProblemDetail";
import {
  INCIDENTS_MANAGE,
  useDeclareIncident,
  useIncidents,
  useDismissSuggestion,
  useSuggestedIncidents,
  type IncidentItem,
  type IncidentState,
} from "./incidents";
import "./incidents.css";

/** Outage incidents: NAS that went silent, the declare form, active and closed incidents. */
export function IncidentsPage() {
  const { t } = useTranslation();
  usePageTitle(t("incidents.title"));
  const mayManage = useHasPermission(INCIDENTS_MANAGE);
  const [state, setState] = useState<IncidentState>("active");
  // A suggestion confirmed: the form opens with that NAS chosen.
  const [preset, setPreset] = useState<{ nasId: string; title: string }>();
  const [formKey, setFormKey] = useState(0);

  return (
    <div className="stack incidents-page">
      <header className="page-header">
        <h1>{t("incidents.title")}</h1>
        <p className="muted">{t("incidents.intro")}</p>
      </header>
      <Suggestions
        mayManage={mayManage}
        onConfirm={(nasId, title) => {
          setPreset({ nasId, title });
          setFormKey((k) => k + 1);
        }}
      />
      {mayManage && (
        <section className="card">
          <DeclareForm key={formKey} preset={preset} />
        </section>
      )}
      <section className="card table-card" aria-labelledby="incidents-list-title">
        <div className="table-card__head incidents-tabs">
          <h2 id="incidents-list-title" className="table-card__title">
            {t("incidents.listTitle")}
          </h2>
          <div className="incidents-tabs__buttons" role="group" aria-label={t("incidents.listTitle")}>
            {(["active", "closed"] as const).map((s) => (
              <button
                key={s}
                type="button"
                className={`button button--small${state === s ? " button--primary" : " button--ghost"}`}
                aria-pressed={state === s}
                onClick={() => {
                  setState(s);
                }}
                data-testid={`incidents-tab-${s}`}
              >
                {t(`incidents.${s}`)}
              </button>
            ))}
          </div>
        </div>
        <IncidentList state={state} />
      </section>
    </div>
  );
}

function IncidentList({ state }: { state: IncidentState }) {
  const { t } = useTranslation();
  const format = useFormat();
  const list = useIncidents(state);
  if (list.isPending) return <Loading />;
  if (list.isError) return <ErrorNotice error={list.error} />;
  const items = list.data.items;
  if (items.length === 0) {
    return (
      <p className="empty-state table-card__empty" data-testid="incidents-empty">
        {state === "active" ? t("incidents.empty") : t("incidents.emptyClosed")}
      </p>
    );
  }
  return (
    <table className="data-table" data-testid="incidents-list">
      <thead>
        <tr>
          <th scope="col">{t("incidents.fieldTitle")}</th>
          <th scope="col">{t("incidents.area")}</th>
          <th scope="col">{t("incidents.started")}</th>
          <th scope="col">{t("incidents.affected")}</th>
          <th scope="col">{t("incidents.tickets")}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((item) => (
          <tr key={item.id} data-testid="incident-row" data-incident-title={item.title}>
            <td className="data-table__primary">
              <Link to={`/console/incidents/${item.id}`} data-testid="incident-link">
                {item.title}
              </Link>
            </td>
            <td data-label={t("incidents.area")}>
              <AreaSummary item={item} />
            </td>
            <td data-label={t("incidents.started")}>{format.dateTime(item.started_at)}</td>
            <td data-label={t("incidents.affected")}>{item.affected}</td>
            <td data-label={t("incidents.tickets")}>{item.linked_tickets}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The area in words: how many NAS, which area codes and address fragments. */
export function AreaSummary({ item }: { item: IncidentItem }) {
  const { t } = useTranslation();
  const parts = [
    item.area.nas_ids.length > 0 ? t("incidents.nasCount", { count: item.area.nas_ids.length }) : null,
    ...item.area.area_codes,
    ...item.area.address_fragments.map((f) => `«${f}»`),
  ].filter((p): p is string => p !== null);
  return <span className="incidents-area">{parts.join(", ")}</span>;
}

function Suggestions({ mayManage, onConfirm }: { mayManage: boolean; onConfirm: (nasId: string, title: string) => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const suggested = useSuggestedIncidents();
  const dismiss = useDismissSuggestion();
  const items = suggested.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <section className="notice notice--warning" aria-labelledby="incident-suggestions-title" data-testid="incident-suggestions">
      <div>
        <h2 id="incident-suggestions-title" className="incidents-subtitle">
          {t("incidents.suggestions")}
        </h2>
        <ul className="incidents-suggestions">
          {items.map((s) => (
            <li key={s.nas_id} data-testid="incident-suggestion">
              <span>
                {t("incidents.suggestionText", {
                  name: s.nas_name,
                  area: s.area || "—",
                  sessions: s.sessions,
                  since: format.dateTime(s.last_accounting_at),
                })}
              </span>
              {mayManage && (
                <button
                  type="button"
                  className="button button--small button--primary"
                  onClick={() => {
                    onConfirm(s.nas_id, t("incidents.suggestedTitle", { name: s.nas_name }));
                  }}
                  data-testid="incident-suggestion-confirm"
                >
                  {t("incidents.confirm")}
                </button>
              )}
              {mayManage && (
                <button
                  type="button"
                  className="button button--small"
                  disabled={dismiss.isPending}
                  onClick={() => {
                    dismiss.mutate(s.nas_id);
                  }}
                  data-testid="incident-suggestion-dismiss"
                >
                  {t("incidents.dismiss")}
                </button>
              )}
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}

function splitList(raw: string, separator: RegExp): string[] {
  return raw
    .split(separator)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function DeclareForm({ preset }: { preset?: { nasId: string; title: string } }) {
  const { t } = useTranslation();
  const id = useId();
  const navigate = useNavigate();
  const declare = useDeclareIncident();
  const mayReadNetwork = useHasPermission(NETWORK_READ);
  const nasList = useNasList();
  const nas = mayReadNetwork ? (nasList.data?.pages.flatMap((page) => page.items) ?? []) : [];
  const [title, setTitle] = useState(preset?.title ?? "");
  const [message, setMessage] = useState("");
  const [startedAt, setStartedAt] = useState("");
  const [nasIds, setNasIds] = useState<string[]>(preset ? [preset.nasId] : []);
  const [codes, setCodes] = useState("");
  const [fragments, setFragments] = useState("");
  const [missingArea, setMissingArea] = useState(false);

  function submit(event: FormEvent) {
    event.preventDefault();
    const areaCodes = splitList(codes, /,/);
    const addressFragments = splitList(fragments, /\n/);
    if (nasIds.length === 0 && areaCodes.length === 0 && addressFragments.length === 0) {
      setMissingArea(true);
      return;
    }
    setMissingArea(false);
    declare.mutate(
      {
        title: title.trim(),
        message: message.trim(),
        ...(startedAt ? { started_at: new Date(startedAt).toISOString() } : {}),
        area: { nas_ids: nasIds, area_codes: areaCodes, address_fragments: addressFragments },
      },
      {
        onSuccess: (incident) => {
          void navigate(`/console/incidents/${incident.id}`);
        },
      },
    );
  }

  return (
    <form className="form" onSubmit={submit} data-testid="incident-form">
      <h2>{t("incidents.declare")}</h2>
      <div className="incidents-form__grid">
        <div className="field">
          <label className="field__label" htmlFor={`${id}-title`}>
            {t("incidents.fieldTitle")}
          </label>
          <input
            id={`${id}-title`}
            required
            maxLength={200}
            value={title}
            onChange={(e) => {
              setTitle(e.target.value);
            }}
            data-testid="incident-title"
          />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-started`}>
            {t("incidents.fieldStartedAt")}
          </label>
          <input
            id={`${id}-started`}
            type="datetime-local"
            value={startedAt}
            onChange={(e) => {
              setStartedAt(e.target.value);
            }}
            data-testid="incident-started"
          />
          <p className="field__hint">{t("incidents.fieldStartedAtHint")}</p>
        </div>
      </div>
      <div className="field">
        <label className="field__label" htmlFor={`${id}-message`}>
          {t("incidents.fieldMessage")}
        </label>
        <textarea
          id={`${id}-message`}
          required
          rows={3}
          maxLength={5000}
          value={message}
          onChange={(e) => {
            setMessage(e.target.value);
          }}
          data-testid="incident-message"
        />
      </div>
      <fieldset className="incidents-area-fields">
        <legend>{t("incidents.area")}</legend>
        {nas.length > 0 && (
          <div className="field">
            <span className="field__label">{t("incidents.fieldNas")}</span>
            <div className="incidents-nas">
              {nas.map((n) => (
                <label key={n.id} className="incidents-nas__item">
                  <input
                    type="checkbox"
                    checked={nasIds.includes(n.id)}
                    onChange={(e) => {
                      setNasIds((ids) => (e.target.checked ? [...ids, n.id] : ids.filter((x) => x !== n.id)));
                    }}
                    data-testid="incident-nas"
                    data-nas-name={n.name}
                  />
                  {n.area ? `${n.name} (${n.area})` : n.name}
                </label>
              ))}
            </div>
          </div>
        )}
        <div className="incidents-form__grid">
          <div className="field">
            <label className="field__label" htmlFor={`${id}-codes`}>
              {t("incidents.fieldAreaCodes")}
            </label>
            <input
              id={`${id}-codes`}
              value={codes}
              onChange={(e) => {
                setCodes(e.target.value);
              }}
              data-testid="incident-codes"
            />
            <p className="field__hint">{t("incidents.fieldAreaCodesHint")}</p>
          </div>
          <div className="field">
            <label className="field__label" htmlFor={`${id}-fragments`}>
              {t("incidents.fieldAddresses")}
            </label>
            <textarea
              id={`${id}-fragments`}
              rows={2}
              value={fragments}
              onChange={(e) => {
                setFragments(e.target.value);
              }}
              data-testid="incident-fragments"
            />
            <p className="field__hint">{t("incidents.fieldAddressesHint")}</p>
          </div>
        </div>
      </fieldset>
      {missingArea && (
        <p className="field__error" role="alert" data-testid="incident-area-missing">
          {t("incidents.areaRequired")}
        </p>
      )}
      {declare.isError && <ProblemDetail error={declare.error} />}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={declare.isPending} data-testid="incident-submit">
          {t("incidents.declareSubmit")}
        </button>
      </div>
    </form>
  );
}
