import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { type TicketCategory, type TicketPriority, type TicketSettings, type TicketSettingsView } from "../../api/types";
import { usePageTitle } from "../../shared/site/site";
import { useTicketCategories } from "../../shared/tickets/categories";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Field } from "../../shared/ui/Field";
import { Loading } from "../../shared/ui/Loading";
import { useHasPermission } from "../subscribers/billing";
import { TICKET_PRIORITIES, useSaveTicketSettings, useTicketSettings } from "./tickets";
import "./desk.css";

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const;
type Weekday = (typeof WEEKDAYS)[number];
const DAY_NAMES = { 1: "mon", 2: "tue", 3: "wed", 4: "thu", 5: "fri", 6: "sat", 7: "sun" } as const;
type Day = { open: boolean; opens: string; closes: string };
type Targets = { first: string; resolution: string; raise: boolean };
/** A category's own targets for one priority; it wins over the priority's. */
type Override = Targets & { key: number; category: TicketCategory; priority: TicketPriority };

interface Draft {
  reopenDays: string;
  autoCloseDays: string;
  days: Record<Weekday, Day>;
  holidays: string;
  targets: Record<TicketPriority, Targets>;
  overrides: Override[];
}

let nextOverrideKey = 0;

function toDraft(view: TicketSettingsView): Draft {
  const day = (d: Weekday): Day => {
    const interval = view.opening_hours.find((h) => h.weekday === d);
    return interval
      ? { open: true, opens: interval.opens, closes: interval.closes }
      : { open: false, opens: "09:00", closes: "18:00" };
  };
  const days: Record<Weekday, Day> = { 1: day(1), 2: day(2), 3: day(3), 4: day(4), 5: day(5), 6: day(6), 7: day(7) };
  const targets = {} as Record<TicketPriority, Targets>;
  for (const p of TICKET_PRIORITIES) {
    const policy = view.policies.find((x) => x.priority === p && x.category === undefined);
    targets[p] = {
      first: String(policy?.first_response_minutes ?? 480),
      resolution: String(policy?.resolution_minutes ?? 1620),
      raise: policy?.raise_priority_on_breach ?? true,
    };
  }
  return {
    reopenDays: String(view.reopen_days),
    autoCloseDays: String(view.auto_close_days),
    days,
    holidays: view.holidays.join("\n"),
    targets,
    overrides: view.policies.flatMap((x) =>
      x.category === undefined
        ? []
        : [
            {
              key: nextOverrideKey++,
              category: x.category,
              priority: x.priority,
              first: String(x.first_response_minutes),
              resolution: String(x.resolution_minutes),
              raise: x.raise_priority_on_breach,
            },
          ],
    ),
  };
}

function fromDraft(draft: Draft, view: TicketSettingsView): TicketSettings {
  return {
    reopen_days: Number(draft.reopenDays),
    auto_close_days: Number(draft.autoCloseDays),
    // One interval per open weekday; split shifts set through the API are kept as they were.
    opening_hours: WEEKDAYS.flatMap((d) => {
      const day = draft.days[d];
      if (!day.open) return [];
      const stored = view.opening_hours.filter((h) => h.weekday === d);
      const first = stored.at(0);
      const unchanged = stored.length > 1 && first?.opens === day.opens && first.closes === day.closes;
      return unchanged ? stored : [{ weekday: d, opens: day.opens, closes: day.closes }];
    }),
    holidays: draft.holidays
      .split(/\s+/)
      .map((d) => d.trim())
      .filter((d) => d !== ""),
    policies: [
      ...TICKET_PRIORITIES.map((p) => ({
        priority: p,
        first_response_minutes: Number(draft.targets[p].first),
        resolution_minutes: Number(draft.targets[p].resolution),
        raise_priority_on_breach: draft.targets[p].raise,
      })),
      ...draft.overrides.map((o) => ({
        priority: o.priority,
        category: o.category,
        first_response_minutes: Number(o.first),
        resolution_minutes: Number(o.resolution),
        raise_priority_on_breach: o.raise,
      })),
    ],
  };
}

/** The provider's desk settings: reopen window, auto-close, business hours, holidays, SLA targets. */
export function SlaSettingsPage() {
  const { t } = useTranslation();
  usePageTitle(t("console.sla.title"));
  const settings = useTicketSettings();
  return (
    <div className="stack narrow">
      <Link to="/console/tickets" className="back-link">
        ← {t("console.queue.backToQueue")}
      </Link>
      <header className="page-header">
        <h1>{t("console.sla.title")}</h1>
        {settings.data && <p className="muted">{t("console.sla.timeZone", { zone: settings.data.time_zone })}</p>}
      </header>
      {settings.isPending && <Loading />}
      {settings.isError && <ErrorNotice error={settings.error} />}
      {settings.data && <SettingsForm view={settings.data} />}
    </div>
  );
}

function SettingsForm({ view }: { view: TicketSettingsView }) {
  const { t } = useTranslation();
  const mayEdit = useHasPermission("settings.manage");
  const save = useSaveTicketSettings();
  const [draft, setDraft] = useState<Draft>(() => toDraft(view));
  const [saved, setSaved] = useState(false);
  const update = (change: (d: Draft) => Draft) => {
    setSaved(false);
    setDraft(change);
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate(fromDraft(draft, view), {
      onSuccess: (next) => {
        setDraft(toDraft(next));
        setSaved(true);
      },
    });
  }

  return (
    <form className="card form sla-form" onSubmit={submit} data-testid="sla-settings">
      <fieldset disabled={!mayEdit || save.isPending}>
        <h2>{t("console.sla.lifecycle")}</h2>
        <div className="sla-form__pair">
          <Field label={t("console.sla.reopenDays")} hint={t("console.sla.reopenHint")}>
            {(p) => (
              <input
                {...p}
                type="number"
                min={0}
                max={365}
                required
                value={draft.reopenDays}
                onChange={(e) => {
                  update((d) => ({ ...d, reopenDays: e.target.value }));
                }}
              />
            )}
          </Field>
          <Field label={t("console.sla.autoCloseDays")} hint={t("console.sla.autoCloseHint")}>
            {(p) => (
              <input
                {...p}
                type="number"
                min={1}
                max={365}
                required
                value={draft.autoCloseDays}
                onChange={(e) => {
                  update((d) => ({ ...d, autoCloseDays: e.target.value }));
                }}
              />
            )}
          </Field>
        </div>

        <h2>{t("console.sla.hours")}</h2>
        <table className="sla-table">
          <tbody>
            {WEEKDAYS.map((w) => {
              const day = draft.days[w];
              const setDay = (patch: Partial<Day>) => {
                update((d) => ({ ...d, days: { ...d.days, [w]: { ...day, ...patch } } }));
              };
              return (
                <tr key={w}>
                  <th scope="row">
                    <label>
                      <input
                        type="checkbox"
                        checked={day.open}
                        onChange={(e) => {
                          setDay({ open: e.target.checked });
                        }}
                      />{" "}
                      {t(`console.sla.weekdays.${DAY_NAMES[w]}`)}
                    </label>
                  </th>
                  <td>
                    <input
                      type="time"
                      aria-label={t("console.sla.opens")}
                      value={day.opens}
                      disabled={!day.open}
                      onChange={(e) => {
                        setDay({ opens: e.target.value });
                      }}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={t("console.sla.closes")}
                      value={day.closes}
                      pattern="^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
                      disabled={!day.open}
                      onChange={(e) => {
                        setDay({ closes: e.target.value });
                      }}
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <Field label={t("console.sla.holidays")} hint={t("console.sla.holidaysHint")}>
          {(p) => (
            <textarea
              {...p}
              rows={3}
              value={draft.holidays}
              onChange={(e) => {
                update((d) => ({ ...d, holidays: e.target.value }));
              }}
            />
          )}
        </Field>

        <h2>{t("console.sla.targets")}</h2>
        <p className="muted">{t("console.sla.targetsHint")}</p>
        <table className="sla-table">
          <thead>
            <tr>
              <th scope="col">{t("ticket.priority")}</th>
              <th scope="col">{t("console.sla.firstResponse")}</th>
              <th scope="col">{t("console.sla.resolution")}</th>
              <th scope="col">{t("console.sla.raise")}</th>
            </tr>
          </thead>
          <tbody>
            {TICKET_PRIORITIES.map((p) => {
              const target = draft.targets[p];
              const setTarget = (patch: Partial<Targets>) => {
                update((d) => ({ ...d, targets: { ...d.targets, [p]: { ...target, ...patch } } }));
              };
              return (
                <tr key={p} data-testid={`sla-policy-${p}`}>
                  <th scope="row">{t(`ticket.priorities.${p}`)}</th>
                  <td>
                    <input
                      type="number"
                      min={1}
                      max={525600}
                      required
                      aria-label={`${t("console.sla.firstResponse")} (${t(`ticket.priorities.${p}`)})`}
                      value={target.first}
                      onChange={(e) => {
                        setTarget({ first: e.target.value });
                      }}
                    />
                  </td>
                  <td>
                    <input
                      type="number"
                      min={1}
                      max={525600}
                      required
                      aria-label={`${t("console.sla.resolution")} (${t(`ticket.priorities.${p}`)})`}
                      value={target.resolution}
                      onChange={(e) => {
                        setTarget({ resolution: e.target.value });
                      }}
                    />
                  </td>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`${t("console.sla.raise")} (${t(`ticket.priorities.${p}`)})`}
                      checked={target.raise}
                      onChange={(e) => {
                        setTarget({ raise: e.target.checked });
                      }}
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>

        <CategoryOverrides draft={draft} update={update} />
      </fieldset>
      {save.error != null && <ErrorNotice error={save.error} />}
      {saved && (
        <p className="notice notice--success" role="status">
          {t("console.sla.saved")}
        </p>
      )}
      {mayEdit ? (
        <div className="form__actions">
          <button type="submit" className="button button--primary" disabled={save.isPending} data-testid="sla-save">
            {save.isPending ? t("console.news.saving") : t("console.news.save")}
          </button>
        </div>
      ) : (
        <p className="muted">{t("console.sla.readOnly")}</p>
      )}
    </form>
  );
}

/** Per-category targets: a row per category and priority whose tickets get their own due times. */
function CategoryOverrides({ draft, update }: { draft: Draft; update: (change: (d: Draft) => Draft) => void }) {
  const { t } = useTranslation();
  const categories = useTicketCategories("staff");
  const setOverride = (key: number, patch: Partial<Override>) => {
    update((d) => ({ ...d, overrides: d.overrides.map((o) => (o.key === key ? { ...o, ...patch } : o)) }));
  };
  const taken = (o: Override) =>
    draft.overrides.some((x) => x.key !== o.key && x.category === o.category && x.priority === o.priority);
  function add() {
    update((d) => {
      const priority: TicketPriority = "normal";
      const free = categories.active
        .map((c) => c.code)
        .find((c) => !d.overrides.some((o) => o.category === c && o.priority === priority));
      const base = d.targets[priority];
      return {
        ...d,
        overrides: [
          ...d.overrides,
          { ...base, key: nextOverrideKey++, category: free ?? "other", priority },
        ],
      };
    });
  }
  return (
    <section aria-labelledby="sla-overrides-title" data-testid="sla-overrides">
      <h2 id="sla-overrides-title">{t("console.slaOverrides.title")}</h2>
      <p className="muted">{t("console.slaOverrides.hint")}</p>
      {draft.overrides.length === 0 ? (
        <p className="muted">{t("console.slaOverrides.none")}</p>
      ) : (
        <div className="sla-overrides__scroll">
          <table className="sla-table sla-table--overrides">
            <thead>
              <tr>
                <th scope="col">{t("ticket.category")}</th>
                <th scope="col">{t("ticket.priority")}</th>
                <th scope="col">{t("console.sla.firstResponse")}</th>
                <th scope="col">{t("console.sla.resolution")}</th>
                <th scope="col">{t("console.sla.raise")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("console.slaOverrides.remove")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {draft.overrides.map((o, i) => {
                const row = `${categories.name(o.category)}, ${t(`ticket.priorities.${o.priority}`)}`;
                return (
                  <tr key={o.key} data-testid={`sla-override-${i}`}>
                    <td>
                      <select
                        aria-label={`${t("ticket.category")} (${i + 1})`}
                        value={o.category}
                        aria-invalid={taken(o) || undefined}
                        onChange={(e) => {
                          setOverride(o.key, { category: e.target.value });
                        }}
                      >
                        {categories.all
                          .filter((c) => c.active || c.code === o.category)
                          .map((c) => (
                            <option key={c.code} value={c.code}>
                              {c.name}
                            </option>
                          ))}
                      </select>
                    </td>
                    <td>
                      <select
                        aria-label={`${t("ticket.priority")} (${i + 1})`}
                        value={o.priority}
                        aria-invalid={taken(o) || undefined}
                        onChange={(e) => {
                          setOverride(o.key, { priority: e.target.value as TicketPriority });
                        }}
                      >
                        {TICKET_PRIORITIES.map((p) => (
                          <option key={p} value={p}>
                            {t(`ticket.priorities.${p}`)}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <input
                        type="number"
                        min={1}
                        max={525600}
                        required
                        aria-label={`${t("console.sla.firstResponse")} (${row})`}
                        value={o.first}
                        onChange={(e) => {
                          setOverride(o.key, { first: e.target.value });
                        }}
                      />
                    </td>
                    <td>
                      <input
                        type="number"
                        min={1}
                        max={525600}
                        required
                        aria-label={`${t("console.sla.resolution")} (${row})`}
                        value={o.resolution}
                        onChange={(e) => {
                          setOverride(o.key, { resolution: e.target.value });
                        }}
                      />
                    </td>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`${t("console.sla.raise")} (${row})`}
                        checked={o.raise}
                        onChange={(e) => {
                          setOverride(o.key, { raise: e.target.checked });
                        }}
                      />
                    </td>
                    <td>
                      <button
                        type="button"
                        className="button button--small"
                        aria-label={`${t("console.slaOverrides.remove")} (${row})`}
                        onClick={() => {
                          update((d) => ({ ...d, overrides: d.overrides.filter((x) => x.key !== o.key) }));
                        }}
                      >
                        ×
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {draft.overrides.some(taken) && (
        <p className="notice notice--error" role="alert">
          {t("console.slaOverrides.duplicate")}
        </p>
      )}
      <button type="button" className="button" onClick={add} data-testid="sla-override-add">
        {t("console.slaOverrides.add")}
      </button>
    </section>
  );
}
