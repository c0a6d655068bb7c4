import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { InvitationsSection } from "./InvitationsSection";
import {
  type BuiltInRoleName,
  type Permission,
  type RoleChoice,
  useDeleteRole,
  usePermissionCatalogue,
  useRoles,
  useSaveRole,
  useSetStaffActive,
  useSetStaffRole,
  useSetStaffSecurity,
  useStaffList,
  useStaffSecurity,
} from "./staff";
import "./staff.css";

type Role = NonNullable<ReturnType<typeof useRoles>["data"]>["custom"][number];

function choiceValue(choice: RoleChoice): string {
  return choice.kind === "built_in" ? `built_in:${choice.role}` : `custom:${choice.id}`;
}

function parseChoice(value: string): RoleChoice {
  const [kind = "", rest = ""] = value.split(":", 2);
  return kind === "custom" ? { kind: "custom", id: rest } : { kind: "built_in", role: rest as BuiltInRoleName };
}

/** The owner's page: staff with their roles and status, the two-factor rule, custom roles. */
export function StaffPage() {
  const { t } = useTranslation();
  usePageTitle(t("staffAdmin.title"));
  const staff = useStaffList();
  const roles = useRoles();
  const setRole = useSetStaffRole();
  const setActive = useSetStaffActive();
  const [editing, setEditing] = useState<Role | "new" | null>(null);
  const remove = useDeleteRole();

  const builtIn = roles.data?.built_in ?? [];
  const custom = roles.data?.custom ?? [];

  return (
    <div className="stack staff-admin">
      <header className="page-header">
        <h1>{t("staffAdmin.title")}</h1>
      </header>
      {(staff.isPending || roles.isPending) && <Loading />}
      {staff.isError && <ErrorNotice error={staff.error} />}
      {roles.isError && <ErrorNotice error={roles.error} />}
      {setRole.error && <ErrorNotice error={setRole.error} />}
      {setActive.error && <ErrorNotice error={setActive.error} />}
      {staff.data && (
        <div className="card table-card">
          <table className="data-table" data-testid="staff-list">
            <thead>
              <tr>
                <th scope="col">{t("staffAdmin.person")}</th>
                <th scope="col">{t("staffAdmin.role")}</th>
                <th scope="col">{t("staffAdmin.status")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("billing.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {staff.data.items.map((person) => {
                const customRole = person.custom_roles[0];
                const builtInRole = person.roles[0];
                const current: RoleChoice | undefined = customRole
                  ? { kind: "custom", id: customRole.id }
                  : builtInRole
                    ? { kind: "built_in", role: builtInRole }
                    : undefined;
                return (
                  <tr key={person.id} data-testid="staff-row" data-email={person.email}>
                    <td className="data-table__primary">
                      {person.display_name}
                      <div className="muted">{person.email}</div>
                    </td>
                    <td data-label={t("staffAdmin.role")}>
                      <select
                        aria-label={t("staffAdmin.roleOf", { name: person.display_name })}
                        value={current ? choiceValue(current) : ""}
                        disabled={person.me || setRole.isPending}
                        onChange={(e) => {
                          setRole.mutate({ id: person.id, role: parseChoice(e.target.value) });
                        }}
                        data-testid="staff-role-select"
                      >
                        {current === undefined && <option value="">{t("staffAdmin.noRole")}</option>}
                        <optgroup label={t("staffAdmin.builtIn")}>
                          {builtIn.map((r) => (
                            <option key={r.role} value={`built_in:${r.role}`}>
                              {t(`staffAdmin.roles.${r.role}`)}
                            </option>
                          ))}
                        </optgroup>
                        {custom.length > 0 && (
                          <optgroup label={t("staffAdmin.custom")}>
                            {custom.map((r) => (
                              <option key={r.id} value={`custom:${r.id}`}>
                                {r.name}
                              </option>
                            ))}
                          </optgroup>
                        )}
                      </select>
                    </td>
                    <td data-label={t("staffAdmin.status")}>
                      <span className={person.active ? "badge badge--success" : "badge"} data-testid="staff-status">
                        {person.active ? t("staffAdmin.active") : t("staffAdmin.inactive")}
                      </span>{" "}
                      {person.two_factor && <span className="badge badge--info">{t("staffAdmin.twoFactor")}</span>}
                    </td>
                    <td>
                      {!person.me && (
                        <button
                          type="button"
                          className="button button--small"
                          disabled={setActive.isPending}
                          onClick={() => {
                            setActive.mutate({ id: person.id, active: !person.active });
                          }}
                          data-testid={person.active ? "staff-deactivate" : "staff-activate"}
                        >
                          {person.active ? t("staffAdmin.deactivate") : t("staffAdmin.activate")}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <InvitationsSection
        roleOptions={{
          builtIn: builtIn.map((r) => ({ value: `built_in:${r.role}`, label: t(`staffAdmin.roles.${r.role}`) })),
          custom: custom.map((r) => ({ value: `custom:${r.id}`, label: r.name })),
        }}
      />

      <TwoFactorRule />

      <section className="stack">
        <header className="page-header page-header--row">
          <h2>{t("staffAdmin.customRoles")}</h2>
          <button
            type="button"
            className="button button--primary"
            onClick={() => {
              setEditing("new");
            }}
            data-testid="role-new"
          >
            {t("staffAdmin.newRole")}
          </button>
        </header>
        {editing !== null && (
          <RoleEditor
            key={editing === "new" ? "new" : editing.id}
            role={editing === "new" ? undefined : editing}
            onDone={() => {
              setEditing(null);
            }}
          />
        )}
        {remove.error && <ErrorNotice error={remove.error} />}
        {roles.isSuccess && custom.length === 0 && <p className="card empty-state">{t("staffAdmin.noCustomRoles")}</p>}
        {custom.length > 0 && (
          <ul className="card staff-admin__roles" data-testid="custom-roles">
            {custom.map((role) => (
              <li key={role.id} data-testid="custom-role" data-role-name={role.name}>
                <div>
                  <strong>{role.name}</strong>
                  {role.description && <div className="muted">{role.description}</div>}
                  <div className="muted">
                    {t("staffAdmin.summary", { permissions: role.permissions.length, members: role.members })}
                  </div>
                </div>
                <div className="staff-admin__actions">
                  <button
                    type="button"
                    className="button button--small"
                    onClick={() => {
                      setEditing(role);
                    }}
                    data-testid="role-edit"
                  >
                    {t("staffAdmin.edit")}
                  </button>
                  <button
                    type="button"
                    className="button button--small button--ghost"
                    disabled={remove.isPending || role.members > 0}
                    title={role.members > 0 ? t("staffAdmin.inUse") : undefined}
                    onClick={() => {
                      remove.mutate(role.id);
                    }}
                    data-testid="role-delete"
                  >
                    {t("staffAdmin.delete")}
                  </button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function TwoFactorRule() {
  const { t } = useTranslation();
  const current = useStaffSecurity();
  const save = useSetStaffSecurity();
  return (
    <div className="card form">
      {save.error && <ErrorNotice error={save.error} />}
      <label className="checkbox">
        <input
          type="checkbox"
          checked={current.data?.require_two_factor ?? false}
          disabled={!current.isSuccess || save.isPending}
          onChange={(e) => {
            save.mutate(e.target.checked);
          }}
          data-testid="require-two-factor"
        />
        {t("staffAdmin.requireTwoFactor")}
      </label>
      <p className="field__hint">{t("staffAdmin.requireTwoFactorHint")}</p>
    </div>
  );
}

/** Name, description and the permissions, grouped by area, with their descriptions. */
function RoleEditor({ role, onDone }: { role: Role | undefined; onDone: () => void }) {
  const { t, i18n } = useTranslation();
  const ids = { name: useId(), description: useId() };
  const catalogue = usePermissionCatalogue();
  const save = useSaveRole();
  const [name, setName] = useState(role?.name ?? "");
  const [description, setDescription] = useState(role?.description ?? "");
  const [chosen, setChosen] = useState<Permission[]>(role?.permissions ?? []);
  const [touched, setTouched] = useState(false);
  const ru = i18n.language.startsWith("ru");

  const areas = new Map<string, NonNullable<typeof catalogue.data>["items"]>();
  for (const item of catalogue.data?.items ?? []) {
    areas.set(item.area, [...(areas.get(item.area) ?? []), item]);
  }
  const nameMissing = name.trim() === "";
  const noneChosen = chosen.length === 0;

  return (
    <form
      className="card form"
      data-testid="role-editor"
      onSubmit={(e) => {
        e.preventDefault();
        setTouched(true);
        if (nameMissing || noneChosen) return;
        save.mutate(
          { id: role?.id, body: { name: name.trim(), description: description.trim(), permissions: chosen } },
          { onSuccess: onDone },
        );
      }}
    >
      <h3>{role ? t("staffAdmin.editRole") : t("staffAdmin.newRole")}</h3>
      <div className="field">
        <label className="field__label" htmlFor={ids.name}>
          {t("staffAdmin.roleName")}
        </label>
        <input
          id={ids.name}
          value={name}
          maxLength={80}
          aria-invalid={touched && nameMissing ? true : undefined}
          onChange={(e) => {
            setName(e.target.value);
          }}
          data-testid="role-name"
        />
        {touched && nameMissing && <p className="field__error">{t("staffAdmin.nameRequired")}</p>}
      </div>
      <div className="field">
        <label className="field__label" htmlFor={ids.description}>
          {t("staffAdmin.roleDescription")}
        </label>
        <input
          id={ids.description}
          value={description}
          maxLength={500}
          onChange={(e) => {
            setDescription(e.target.value);
          }}
          data-testid="role-description"
        />
      </div>
      {catalogue.isError && <ErrorNotice error={catalogue.error} />}
      <div className="staff-admin__areas">
        {[...areas].map(([area, items]) => (
          <fieldset key={area} className="staff-admin__area">
            <legend className="field__label">{t(`staffAdmin.areas.${area}`, { defaultValue: area })}</legend>
            {items.map((item) => (
              <label key={item.permission} className="checkbox">
                <input
                  type="checkbox"
                  checked={chosen.includes(item.permission)}
                  onChange={(e) => {
                    setChosen(
                      e.target.checked
                        ? [...chosen, item.permission]
                        : chosen.filter((p) => p !== item.permission),
                    );
                  }}
                  data-testid="role-permission"
                  data-permission={item.permission}
                />
                <span>
                  {ru ? item.description_ru : item.description_en}
                  <span className="muted staff-admin__code"> {item.permission}</span>
                </span>
              </label>
            ))}
          </fieldset>
        ))}
      </div>
      {touched && noneChosen && <p className="field__error">{t("staffAdmin.permissionsRequired")}</p>}
      {save.error && <ErrorNotice error={save.error} />}
      <div className="staff-admin__actions">
        <button type="submit" className="button button--primary" disabled={save.isPending} data-testid="role-save">
          {t("staffAdmin.save")}
        </button>
        <button type="button" className="button button--ghost" onClick={onDone}>
          {t("staffAdmin.cancel")}
        </button>
      </div>
    </form>
  );
}
