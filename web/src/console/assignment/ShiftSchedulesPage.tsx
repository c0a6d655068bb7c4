import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useHasPermission } from "../subscribers/billing";
import { GROUPS_MANAGE, SHIFT_WORK } from "./assignment";
import { ShiftToggle } from "./ShiftToggle";
import {
  WEEKDAYS,
  WEEKDAY_KEYS,
  spansOn,
  useMyShiftSchedule,
  useSaveShiftSchedule,
  useShiftSchedules,
  type AgentWeek,
  type ShiftSpan,
} from "./shifts";
import "./assignment.css";
import "./shifts.css";

interface DraftSpan extends ShiftSpan {
  key: number;
}

/** One agent's week as rows of spans per weekday, with the holidays switch. */
function WeekEditor({ week, self, onDone }: { week: AgentWeek; self: boolean; onDone: () => void }) {
  const { t } = useTranslation();
  const save = useSaveShiftSchedule(self ? undefined : week.staff_id);
  const [spans, setSpans] = useState<DraftSpan[]>(() => week.spans.map((s, i) => ({ ...s, key: i })));
  const [nextKey, setNextKey] = useState(week.spans.length);
  const [offOnHolidays, setOffOnHolidays] = useState(week.off_on_holidays);

  function add(weekday: number) {
    setSpans([...spans, { key: nextKey, weekday, starts_at: "09:00", ends_at: "18:00" }]);
    setNextKey(nextKey + 1);
  }

  function change(key: number, patch: Partial<ShiftSpan>) {
    setSpans(spans.map((s) => (s.key === key ? { ...s, ...patch } : s)));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate(
      {
        off_on_holidays: offOnHolidays,
        spans: spans.map(({ weekday, starts_at, ends_at }) => ({ weekday, starts_at, ends_at })),
      },
      { onSuccess: onDone },
    );
  }

  return (
    <form className="card form week-editor" onSubmit={submit} data-testid="week-editor">
      <h2>{t("shifts.editTitle", { name: week.display_name })}</h2>
      <p className="field__hint">{t("shifts.editHint")}</p>
      <div className="week-editor__days">
        {WEEKDAYS.map((day) => (
          <fieldset key={day} className="week-editor__day" data-testid={`day-${day}`}>
            <legend>{t(`shifts.weekdays.${WEEKDAY_KEYS[day]}`)}</legend>
            {spans
              .filter((s) => s.weekday === day)
              .map((s) => (
                <div key={s.key} className="week-editor__span" data-testid="span-row">
                  <input
                    type="time"
                    required
                    aria-label={t("shifts.startsAt")}
                    value={s.starts_at}
                    onChange={(e) => {
                      change(s.key, { starts_at: e.target.value });
                    }}
                    data-testid="span-start"
                  />
                  <span aria-hidden="true">–</span>
                  <input
                    type="time"
                    required
                    aria-label={t("shifts.endsAt")}
                    value={s.ends_at}
                    onChange={(e) => {
                      change(s.key, { ends_at: e.target.value });
                    }}
                    data-testid="span-end"
                  />
                  {s.ends_at <= s.starts_at && <span className="muted week-editor__night">{t("shifts.overnight")}</span>}
                  <button
                    type="button"
                    className="button button--small button--ghost"
                    onClick={() => {
                      setSpans(spans.filter((x) => x.key !== s.key));
                    }}
                    data-testid="span-remove"
                  >
                    {t("shifts.remove")}
                  </button>
                </div>
              ))}
            <button
              type="button"
              className="button button--small"
              onClick={() => {
                add(day);
              }}
              data-testid={`span-add-${day}`}
            >
              {t("shifts.add")}
            </button>
          </fieldset>
        ))}
      </div>
      <label className="group-auto">
        <input
          type="checkbox"
          checked={offOnHolidays}
          onChange={(e) => {
            setOffOnHolidays(e.target.checked);
          }}
          data-testid="week-holidays"
        />
        {t("shifts.offOnHolidays")}
      </label>
      {save.error != null && <ErrorNotice error={save.error} />}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={save.isPending} data-testid="week-save">
          {t("shifts.save")}
        </button>
        <button type="button" className="button button--ghost" onClick={onDone}>
          {t("shifts.cancel")}
        </button>
      </div>
    </form>
  );
}

/** An agent's week at a glance: on shift now, the spans of each weekday. */
function WeekCard({ week, onEdit }: { week: AgentWeek; onEdit: () => void }) {
  const { t } = useTranslation();
  return (
    <li className="card week-card" data-testid="agent-week" data-name={week.display_name} data-on-shift={String(week.on_shift)}>
      <div className="week-card__head">
        <strong>
          {week.display_name}
          {week.me && <span className="muted"> ({t("assignment.groups.me")})</span>}
        </strong>
        <Badge tone={week.on_shift ? "success" : "neutral"}>
          {week.on_shift ? t("assignment.shift.on") : t("assignment.shift.off")}
        </Badge>
      </div>
      {week.spans.length === 0 ? (
        <p className="muted">{t("shifts.noSchedule")}</p>
      ) : (
        <dl className="week-grid">
          {WEEKDAYS.map((day) => {
            const today = spansOn(week.spans, day);
            return (
              <div key={day} className="week-grid__day">
                <dt>{t(`shifts.weekdaysShort.${WEEKDAY_KEYS[day]}`)}</dt>
                <dd data-testid={`week-day-${day}`}>
                  {today.length === 0 ? "—" : today.map((s) => `${s.starts_at}–${s.ends_at}`).join(", ")}
                </dd>
              </div>
            );
          })}
        </dl>
      )}
      <div className="week-card__foot">
        {week.spans.length > 0 && (
          <span className="muted">{week.off_on_holidays ? t("shifts.holidaysOff") : t("shifts.holidaysOn")}</span>
        )}
        <button type="button" className="button button--small" onClick={onEdit} data-testid="week-edit">
          {t("shifts.edit")}
        </button>
      </div>
    </li>
  );
}

/** Shifts: who is on shift now and each agent's weekly schedule (managers: everyone's; agents: their own). */
export function ShiftSchedulesPage() {
  const { t } = useTranslation();
  usePageTitle(t("shifts.pageTitle"));
  const mayManage = useHasPermission(GROUPS_MANAGE);
  const mayWork = useHasPermission(SHIFT_WORK);
  const all = useShiftSchedules(mayManage);
  const mine = useMyShiftSchedule(mayWork && !mayManage);
  const [editing, setEditing] = useState<AgentWeek | null>(null);
  const [formKey, setFormKey] = useState(0);
  const weeks: AgentWeek[] = mayManage ? (all.data?.items ?? []) : mine.data ? [mine.data] : [];
  const query = mayManage ? all : mine;
  const onShiftNow = weeks.filter((w) => w.on_shift);

  return (
    <div className="stack" data-testid="shifts-page">
      <header className="page-header">
        <p>
          <Link to="/console/tickets/groups">{t("shifts.back")}</Link>
        </p>
        <h1>{t("shifts.pageTitle")}</h1>
        <p>{t("shifts.pageLead")}</p>
        {all.data?.time_zone !== undefined && (
          <p className="muted" data-testid="shifts-zone">
            {t("shifts.timeZone", { zone: all.data.time_zone })}
          </p>
        )}
      </header>
      <ShiftToggle />
      {!mayManage && !mayWork && <p className="card empty-state">{t("shifts.forbidden")}</p>}
      {mayManage && all.isSuccess && (
        <section className="card on-shift-now" data-testid="on-shift-now" aria-label={t("shifts.nowTitle")}>
          <h2>{t("shifts.nowTitle")}</h2>
          {onShiftNow.length === 0 ? (
            <p className="muted">{t("shifts.nobody")}</p>
          ) : (
            <ul className="group-card__members">
              {onShiftNow.map((w) => (
                <li key={w.staff_id} className="group-member group-member--on" data-testid="on-shift-agent">
                  {w.display_name}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      <div className={`groups-page ${editing !== null ? "groups-page--editing" : ""}`}>
        <section className="stack" aria-label={t("shifts.weeksTitle")}>
          {query.isPending && (mayManage || mayWork) && <Loading />}
          {query.isError && <ErrorNotice error={query.error} />}
          <ul className="group-list" data-testid="week-list">
            {weeks.map((w) => (
              <WeekCard
                key={w.staff_id}
                week={w}
                onEdit={() => {
                  setEditing(w);
                  setFormKey((k) => k + 1);
                }}
              />
            ))}
          </ul>
        </section>
        {editing !== null && (
          <WeekEditor
            key={formKey}
            week={editing}
            self={!mayManage}
            onDone={() => {
              setEditing(null);
            }}
          />
        )}
      </div>
    </div>
  );
}
