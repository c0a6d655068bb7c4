import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { ApiError } from "../../api/client";
import { usePageTitle } from "../../shared/site/site";
import { useTicketCategories } from "../../shared/tickets/categories";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Field } from "../../shared/ui/Field";
import { Loading } from "../../shared/ui/Loading";
import { useHasPermission } from "../subscribers/billing";
import { useTicketAgents } from "../tickets/tickets";
import {
  ASSIGNMENT_MODES,
  GROUPS_MANAGE,
  useAgentGroups,
  useDeleteAgentGroup,
  useSaveAgentGroup,
  type AgentGroup,
  type GroupInput,
} from "./assignment";
import { ShiftToggle } from "./ShiftToggle";
import "./assignment.css";

interface Draft {
  id: string | undefined;
  input: GroupInput;
}

const EMPTY: GroupInput = { name: "", mode: "round_robin", categories: [], members: [], position: 0, auto_assign: true };

function toggled(list: readonly string[], value: string, on: boolean): string[] {
  return on ? [...list.filter((v) => v !== value), value] : list.filter((v) => v !== value);
}

/** The editor: name, mode, the categories the group handles and its members. */
function GroupForm({ draft, onDone }: { draft: Draft; onDone: () => void }) {
  const { t } = useTranslation();
  const [value, setValue] = useState(draft.input);
  const save = useSaveAgentGroup(draft.id);
  const agents = useTicketAgents();
  const categories = value.categories;
  const ticketCategories = useTicketCategories("staff");
  const members = value.members;

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate({ ...value, name: value.name.trim() }, { onSuccess: onDone });
  }

  return (
    <form className="card form" onSubmit={submit} data-testid="group-form">
      <h2>{draft.id === undefined ? t("assignment.groups.new") : t("assignment.groups.edit")}</h2>
      <Field label={t("assignment.groups.name")} hint={t("assignment.groups.nameHint")}>
        {(props) => (
          <input
            {...props}
            required
            maxLength={80}
            value={value.name}
            onChange={(e) => {
              setValue({ ...value, name: e.target.value });
            }}
            data-testid="group-name"
          />
        )}
      </Field>
      <div className="group-form__row">
        <Field label={t("assignment.groups.mode")}>
          {(props) => (
            <select
              {...props}
              value={value.mode}
              onChange={(e) => {
                const mode = ASSIGNMENT_MODES.find((m) => m === e.target.value);
                if (mode !== undefined) setValue({ ...value, mode });
              }}
              data-testid="group-mode"
            >
              {ASSIGNMENT_MODES.map((m) => (
                <option key={m} value={m}>
                  {t(`assignment.modes.${m}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("assignment.groups.position")} hint={t("assignment.groups.positionHint")}>
          {(props) => (
            <input
              {...props}
              type="number"
              min={0}
              max={1000}
              value={value.position}
              onChange={(e) => {
                setValue({ ...value, position: Number(e.target.value) || 0 });
              }}
              data-testid="group-position"
            />
          )}
        </Field>
      </div>
      <p className="field__hint">{t(`assignment.modeHints.${value.mode}`)}</p>
      <fieldset className="group-checks" data-testid="group-categories">
        <legend>{t("assignment.groups.categories")}</legend>
        {ticketCategories.all
          .filter((c) => c.active || categories.includes(c.code))
          .map(({ code, name }) => (
            <label key={code}>
              <input
                type="checkbox"
                checked={categories.includes(code)}
                onChange={(e) => {
                  setValue({ ...value, categories: toggled(categories, code, e.target.checked) });
                }}
                data-testid={`group-category-${code}`}
              />
              {name}
            </label>
          ))}
      </fieldset>
      <p className="field__hint">{t("assignment.groups.categoriesHint")}</p>
      <fieldset className="group-checks" data-testid="group-members">
        <legend>{t("assignment.groups.members")}</legend>
        {agents.isPending && <Loading />}
        {agents.data?.items.map((a) => (
          <label key={a.id}>
            <input
              type="checkbox"
              checked={members.includes(a.id)}
              onChange={(e) => {
                setValue({ ...value, members: toggled(members, a.id, e.target.checked) });
              }}
              data-testid="group-member-option"
              data-name={a.display_name}
            />
            {a.display_name}
            {a.me && ` (${t("assignment.groups.me")})`}
          </label>
        ))}
      </fieldset>
      <label className="group-auto">
        <input
          type="checkbox"
          checked={value.auto_assign}
          onChange={(e) => {
            setValue({ ...value, auto_assign: e.target.checked });
          }}
          data-testid="group-auto"
        />{" "}
        {t("assignment.groups.autoAssign")}
      </label>
      {save.error instanceof ApiError && save.error.code === "agent_group_name_taken" ? (
        <p className="notice notice--error" role="alert" data-testid="error-notice">
          {t("assignment.groups.nameTaken")}
        </p>
      ) : (
        save.error != null && <ErrorNotice error={save.error} />
      )}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={save.isPending} data-testid="group-save">
          {t("assignment.groups.save")}
        </button>
        <button type="button" className="button button--ghost" onClick={onDone}>
          {t("assignment.groups.cancel")}
        </button>
      </div>
    </form>
  );
}

function GroupCard({
  group,
  mayManage,
  onEdit,
  onDelete,
  deleting,
}: {
  group: AgentGroup;
  mayManage: boolean;
  onEdit: () => void;
  onDelete: () => void;
  deleting: boolean;
}) {
  const { t } = useTranslation();
  const ticketCategories = useTicketCategories("staff");
  return (
    <li className="card group-card" data-testid="group-row" data-name={group.name}>
      <div className="group-card__head">
        <h2>{group.name}</h2>
        <span className="badge badge--neutral">{t(`assignment.modes.${group.mode}`)}</span>
      </div>
      <ul className="group-card__tags" aria-label={t("assignment.groups.categories")}>
        {group.categories.length === 0 ? (
          <li className="badge badge--info">{t("assignment.groups.defaultGroup")}</li>
        ) : (
          ticketCategories.all
            .filter((c) => group.categories.includes(c.code))
            .map((c) => (
              <li key={c.code} className="badge badge--neutral">
                {c.name}
              </li>
            ))
        )}
      </ul>
      <ul className="group-card__members" aria-label={t("assignment.groups.members")}>
        {group.members.length === 0 && <li>{t("assignment.groups.noMembers")}</li>}
        {group.members.map((m) => (
          <li
            key={m.id}
            className={`group-member ${m.on_shift ? "group-member--on" : ""}`}
            data-testid="group-member"
            data-on-shift={m.on_shift}
          >
            {m.display_name}{" "}
            <span>
              · {m.on_shift ? t("assignment.shift.onShort") : t("assignment.shift.offShort")} ·{" "}
              {t("assignment.groups.load", { count: m.load })}
            </span>
          </li>
        ))}
      </ul>
      <p className="muted">
        {!group.auto_assign && <strong>{t("assignment.groups.autoOff")} · </strong>}
        <span data-testid="group-waiting">{t("assignment.groups.waiting", { count: group.waiting })}</span>
        {" · "}
        {t("assignment.groups.assignedTotal", { count: group.assigned_total })}
      </p>
      {mayManage && (
        <div className="desk-panel__row">
          <button type="button" className="button button--small" onClick={onEdit} data-testid="group-edit">
            {t("assignment.groups.edit")}
          </button>
          <button
            type="button"
            className="button button--small button--ghost"
            disabled={deleting}
            onClick={onDelete}
            data-testid="group-delete"
          >
            {t("assignment.groups.delete")}
          </button>
        </div>
      )}
    </li>
  );
}

/** Ticket settings: agent groups (skills and members) and who is on shift. */
export function AgentGroupsPage() {
  const { t } = useTranslation();
  usePageTitle(t("assignment.groups.pageTitle"));
  const mayManage = useHasPermission(GROUPS_MANAGE);
  const groups = useAgentGroups();
  const remove = useDeleteAgentGroup();
  const [draft, setDraft] = useState<Draft | null>(null);
  // A new key per opened draft, so the form starts from that draft's values.
  const [formKey, setFormKey] = useState(0);
  const items = groups.data?.items ?? [];

  function edit(next: Draft) {
    setDraft(next);
    setFormKey((k) => k + 1);
  }

  function confirmDelete(g: AgentGroup) {
    if (window.confirm(t("assignment.groups.confirmDelete", { name: g.name }))) {
      remove.mutate(g.id);
    }
  }

  return (
    <div className="stack">
      <header className="page-header page-header--row">
        <div>
          <p>
            <Link to="/console/tickets">{t("assignment.groups.back")}</Link>
          </p>
          <h1>{t("assignment.groups.pageTitle")}</h1>
          <p>{t("assignment.groups.pageLead")}</p>
          <p>
            <Link to="/console/tickets/shifts" data-testid="shifts-link">
              {t("shifts.link")}
            </Link>
          </p>
        </div>
        {mayManage && (
          <button
            type="button"
            className="button button--primary"
            onClick={() => {
              edit({ id: undefined, input: EMPTY });
            }}
            data-testid="group-new"
          >
            {t("assignment.groups.new")}
          </button>
        )}
      </header>
      <ShiftToggle />
      {!mayManage && <p className="card empty-state">{t("assignment.groups.forbidden")}</p>}
      <div className={`groups-page ${draft !== null ? "groups-page--editing" : ""}`}>
        {mayManage && (
          <section className="stack" aria-label={t("assignment.groups.pageTitle")}>
            {groups.isPending && <Loading />}
            {groups.isError && <ErrorNotice error={groups.error} />}
            {remove.error != null && <ErrorNotice error={remove.error} />}
            {groups.isSuccess && items.length === 0 && (
              <p className="card empty-state">{t("assignment.groups.none")}</p>
            )}
            <ul className="group-list" data-testid="group-list">
              {items.map((g) => (
                <GroupCard
                  key={g.id}
                  group={g}
                  mayManage={mayManage}
                  deleting={remove.isPending}
                  onEdit={() => {
                    edit({
                      id: g.id,
                      input: {
                        name: g.name,
                        mode: g.mode,
                        categories: g.categories,
                        members: g.members.map((m) => m.id),
                        position: g.position,
                        auto_assign: g.auto_assign,
                      },
                    });
                  }}
                  onDelete={() => {
                    confirmDelete(g);
                  }}
                />
              ))}
            </ul>
          </section>
        )}
        {draft !== null && (
          <GroupForm
            key={formKey}
            draft={draft}
            onDone={() => {
              setDraft(null);
            }}
          />
        )}
      </div>
    </div>
  );
}
