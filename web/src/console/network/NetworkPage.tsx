import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useHasPermission } from "../subscribers/billing";
import { ProblemDetail } from "../subscribers/ProblemDetail";
import { formatBytes } from "../../shared/network/bytes";
import {
  NETWORK_MANAGE,
  useDeleteNas,
  useNasList,
  useNetworkSettings,
  useOnlineSessions,
  useRegisterNas,
  useRotateNasSecret,
  useUpdateNas,
  useUpdateNetworkSettings,
  VENDORS,
  type NasItem,
  type NasRegistered,
  type NasVendor,
  type NetworkSettings,
} from "./network";
import "./network.css";
import { PlanFeatureNotice } from "../plan/PlanFeatureNotice";

/**
 * NAS of the ISP (register or rotate the secret: shown once; edit; delete), how RADIUS treats
 * subscribers (captive pool for debtors, session timeout, interim interval) and who is online.
 */
export function NetworkPage() {
  const { t } = useTranslation();
  usePageTitle(t("console.network.title"));
  const mayManage = useHasPermission(NETWORK_MANAGE);
  const list = useNasList();
  const remove = useDeleteNas();
  const nas = list.data?.pages.flatMap((page) => page.items) ?? [];
  const rotate = useRotateNasSecret();
  // A secret to show once: after registering a NAS, or after replacing its secret.
  const [secret, setSecret] = useState<{ shown: NasRegistered; rotated: boolean }>();
  const [editing, setEditing] = useState<NasItem>();

  return (
    <div className="stack network-page">
      <header className="page-header">
        <h1>{t("console.network.title")}</h1>
        <p className="muted">{t("console.network.intro")}</p>
      </header>
      <PlanFeatureNotice feature="network" />
      {secret && (
        <div className="notice notice--success" role="status" data-testid="nas-secret">
          <p>
            {secret.rotated
              ? t("console.network.secretRotated", { name: secret.shown.nas.name })
              : t("console.network.secretOnce", { name: secret.shown.nas.name })}
          </p>
          <code className="network-secret" data-testid="nas-secret-value">
            {secret.shown.secret}
          </code>
        </div>
      )}
      {mayManage && (
        <section className="card">
          {editing ? (
            <NasForm
              key={editing.id}
              editing={editing}
              onDone={() => {
                setEditing(undefined);
              }}
            />
          ) : (
            <NasForm
              onDone={(shown) => {
                if (shown) setSecret({ shown, rotated: false });
              }}
            />
          )}
        </section>
      )}
      <section className="card table-card" aria-labelledby="nas-title">
        <div className="table-card__head">
          <h2 id="nas-title" className="table-card__title">
            {t("console.network.nasTitle")}
          </h2>
        </div>
        {list.isPending && <Loading />}
        {list.isError && <ErrorNotice error={list.error} />}
        {remove.error && <ErrorNotice error={remove.error} />}
        {rotate.error && <ErrorNotice error={rotate.error} />}
        {list.isSuccess && nas.length === 0 && (
          <p className="empty-state table-card__empty" data-testid="nas-empty">
            {t("console.network.nasEmpty")}
          </p>
        )}
        {nas.length > 0 && (
          <table className="data-table" data-testid="nas-list">
            <thead>
              <tr>
                <th scope="col">{t("console.network.name")}</th>
                <th scope="col">{t("console.network.address")}</th>
                <th scope="col">{t("console.network.vendor")}</th>
                <th scope="col">{t("console.network.area")}</th>
                <th scope="col">{t("console.network.openSessions")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("billing.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {nas.map((item) => (
                <tr key={item.id} data-testid="nas-row" data-nas-name={item.name}>
                  <td className="data-table__primary">{item.name}</td>
                  <td data-label={t("console.network.address")}>
                    <code>{item.address}</code>
                  </td>
                  <td data-label={t("console.network.vendor")}>{t(`console.network.vendors.${item.vendor}`)}</td>
                  <td data-label={t("console.network.area")}>{item.area || "—"}</td>
                  <td data-label={t("console.network.openSessions")}>{item.open_sessions}</td>
                  <td className="network-actions">
                    {mayManage && (
                      <button
                        type="button"
                        className="button button--small button--ghost"
                        onClick={() => {
                          setEditing(item);
                          window.scrollTo({ top: 0, behavior: "smooth" });
                        }}
                        data-testid="nas-edit"
                      >
                        {t("console.network.edit")}
                      </button>
                    )}
                    {mayManage && (
                      <button
                        type="button"
                        className="button button--small button--ghost"
                        disabled={rotate.isPending}
                        onClick={() => {
                          if (window.confirm(t("console.network.rotateConfirm", { name: item.name }))) {
                            rotate.mutate(item.id, {
                              onSuccess: (shown) => {
                                setSecret({ shown, rotated: true });
                                window.scrollTo({ top: 0, behavior: "smooth" });
                              },
                            });
                          }
                        }}
                        data-testid="nas-rotate"
                      >
                        {t("console.network.rotate")}
                      </button>
                    )}
                    {mayManage && (
                      <button
                        type="button"
                        className="button button--small button--ghost"
                        disabled={remove.isPending}
                        onClick={() => {
                          if (window.confirm(t("console.network.deleteConfirm", { name: item.name }))) {
                            remove.mutate(item.id);
                          }
                        }}
                        data-testid="nas-delete"
                      >
                        {t("console.network.delete")}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <RadiusSettings mayManage={mayManage} />
      <OnlineSessions />
    </div>
  );
}

/** Registers a NAS (`onDone` gets it with its secret) or, with `editing`, changes one. */
function NasForm({ editing, onDone }: { editing?: NasItem; onDone: (registered?: NasRegistered) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const register = useRegisterNas();
  const update = useUpdateNas();
  const saving = editing ? update : register;
  const [name, setName] = useState(editing?.name ?? "");
  const [address, setAddress] = useState(editing?.address ?? "");
  const [vendor, setVendor] = useState<NasVendor>(editing?.vendor ?? "mikrotik");
  const [area, setArea] = useState(editing?.area ?? "");
  const [coaPort, setCoaPort] = useState(String(editing?.coa_port ?? 3799));

  function submit(event: FormEvent) {
    event.preventDefault();
    const body = { name: name.trim(), address: address.trim(), vendor, area: area.trim(), coa_port: Number(coaPort) };
    if (editing) {
      update.mutate(
        { id: editing.id, body },
        {
          onSuccess: () => {
            onDone();
          },
        },
      );
      return;
    }
    register.mutate(body, {
      onSuccess: (result) => {
        setName("");
        setAddress("");
        setArea("");
        setCoaPort("3799");
        onDone(result);
      },
    });
  }

  return (
    <form className="form network-form" onSubmit={submit} data-testid={editing ? "nas-edit-form" : "nas-form"}>
      <h2>{editing ? t("console.network.editTitle", { name: editing.name }) : t("console.network.register")}</h2>
      <div className="network-form__grid">
        <div className="field">
          <label className="field__label" htmlFor={`${id}-name`}>
            {t("console.network.name")}
          </label>
          <input
            id={`${id}-name`}
            required
            maxLength={100}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
            }}
            data-testid="nas-name"
          />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-address`}>
            {t("console.network.address")}
          </label>
          <input
            id={`${id}-address`}
            required
            inputMode="decimal"
            maxLength={45}
            placeholder="192.0.2.10"
            value={address}
            onChange={(e) => {
              setAddress(e.target.value);
            }}
            data-testid="nas-address"
          />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-vendor`}>
            {t("console.network.vendor")}
          </label>
          <select
            id={`${id}-vendor`}
            value={vendor}
            onChange={(e) => {
              setVendor(e.target.value as NasVendor);
            }}
            data-testid="nas-vendor"
          >
            {VENDORS.map((v) => (
              <option key={v} value={v}>
                {t(`console.network.vendors.${v}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-area`}>
            {t("console.network.area")}
          </label>
          <input
            id={`${id}-area`}
            maxLength={100}
            value={area}
            onChange={(e) => {
              setArea(e.target.value);
            }}
            data-testid="nas-area"
          />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-coa`}>
            {t("console.network.coaPort")}
          </label>
          <input
            id={`${id}-coa`}
            type="number"
            required
            min={1}
            max={65535}
            value={coaPort}
            onChange={(e) => {
              setCoaPort(e.target.value);
            }}
            data-testid="nas-coa-port"
          />
        </div>
      </div>
      {saving.isError && <ProblemDetail error={saving.error} />}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={saving.isPending} data-testid="nas-submit">
          {editing ? t("console.network.save") : t("console.network.registerSubmit")}
        </button>
        {editing && (
          <button
            type="button"
            className="button"
            onClick={() => {
              onDone();
            }}
            data-testid="nas-edit-cancel"
          >
            {t("console.network.cancel")}
          </button>
        )}
      </div>
    </form>
  );
}

/** How RADIUS treats the ISP's subscribers; read-only without `network.manage`. */
function RadiusSettings({ mayManage }: { mayManage: boolean }) {
  const { t } = useTranslation();
  const settings = useNetworkSettings();
  return (
    <section className="card" aria-labelledby="radius-settings-title" data-testid="radius-settings">
      <h2 id="radius-settings-title">{t("console.network.settings.title")}</h2>
      {settings.isPending && <Loading />}
      {settings.isError && <ErrorNotice error={settings.error} />}
      {settings.data && <RadiusSettingsForm current={settings.data} mayManage={mayManage} />}
    </section>
  );
}

function RadiusSettingsForm({ current, mayManage }: { current: NetworkSettings; mayManage: boolean }) {
  const { t } = useTranslation();
  const id = useId();
  const save = useUpdateNetworkSettings();
  const [captive, setCaptive] = useState(Boolean(current.debt_captive_pool));
  const [pool, setPool] = useState(current.debt_captive_pool ?? "");
  // Minutes in the form; seconds on the wire.
  const [timeout, setTimeoutMinutes] = useState(String(Math.round(current.session_timeout_secs / 60)));
  const [interim, setInterim] = useState(String(Math.round(current.interim_interval_secs / 60)));

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate({
      debt_captive_pool: captive ? pool.trim() : null,
      session_timeout_secs: Number(timeout) * 60,
      interim_interval_secs: Number(interim) * 60,
    });
  }

  return (
    <form className="form network-form" onSubmit={submit} data-testid="radius-settings-form">
      <fieldset className="network-debtors" disabled={!mayManage}>
        <legend className="field__label">{t("console.network.settings.debtors")}</legend>
        <label className="checkbox">
          <input
            type="radio"
            name={`${id}-debtors`}
            checked={!captive}
            onChange={() => {
              setCaptive(false);
            }}
            data-testid="radius-debtors-reject"
          />{" "}
          {t("console.network.settings.reject")}
        </label>
        <label className="checkbox">
          <input
            type="radio"
            name={`${id}-debtors`}
            checked={captive}
            onChange={() => {
              setCaptive(true);
            }}
            data-testid="radius-debtors-captive"
          />{" "}
          {t("console.network.settings.captive")}
        </label>
      </fieldset>
      <div className="network-form__grid">
        {captive && (
          <div className="field">
            <label className="field__label" htmlFor={`${id}-pool`}>
              {t("console.network.settings.pool")}
            </label>
            <input
              id={`${id}-pool`}
              required
              maxLength={64}
              pattern="[A-Za-z0-9._\-]+"
              disabled={!mayManage}
              value={pool}
              onChange={(e) => {
                setPool(e.target.value);
              }}
              data-testid="radius-pool"
            />
            <p className="field__hint">{t("console.network.settings.poolHint")}</p>
          </div>
        )}
        <div className="field">
          <label className="field__label" htmlFor={`${id}-timeout`}>
            {t("console.network.settings.sessionTimeout")}
          </label>
          <input
            id={`${id}-timeout`}
            type="number"
            required
            min={1}
            max={10080}
            disabled={!mayManage}
            value={timeout}
            onChange={(e) => {
              setTimeoutMinutes(e.target.value);
            }}
            data-testid="radius-session-timeout"
          />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-interim`}>
            {t("console.network.settings.interim")}
          </label>
          <input
            id={`${id}-interim`}
            type="number"
            required
            min={1}
            max={1440}
            disabled={!mayManage}
            value={interim}
            onChange={(e) => {
              setInterim(e.target.value);
            }}
            data-testid="radius-interim"
          />
        </div>
      </div>
      {save.isError && <ProblemDetail error={save.error} />}
      {save.isSuccess && (
        <p className="notice notice--success" role="status" data-testid="radius-settings-saved">
          {t("console.network.settings.saved")}
        </p>
      )}
      {mayManage && (
        <div className="form__actions">
          <button type="submit" className="button button--primary" disabled={save.isPending} data-testid="radius-settings-save">
            {t("console.network.save")}
          </button>
        </div>
      )}
    </form>
  );
}

function OnlineSessions() {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  const locale = i18n.resolvedLanguage ?? "en";
  const sessions = useOnlineSessions();
  const items = sessions.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section className="card table-card" aria-labelledby="online-title">
      <div className="table-card__head">
        <h2 id="online-title" className="table-card__title">
          {t("console.network.online")}
        </h2>
      </div>
      {sessions.isPending && <Loading />}
      {sessions.isError && <ErrorNotice error={sessions.error} />}
      {sessions.isSuccess && items.length === 0 && (
        <p className="empty-state table-card__empty" data-testid="online-empty">
          {t("console.network.onlineEmpty")}
        </p>
      )}
      {items.length > 0 && (
        <table className="data-table" data-testid="online-list">
          <thead>
            <tr>
              <th scope="col">{t("console.network.subscriber")}</th>
              <th scope="col">{t("console.network.login")}</th>
              <th scope="col">{t("console.network.nas")}</th>
              <th scope="col">{t("console.network.ip")}</th>
              <th scope="col">{t("console.network.since")}</th>
              <th scope="col">{t("console.network.traffic")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={`${s.nas_id}/${s.acct_session_id}`} data-testid="online-row">
                <td className="data-table__primary">
                  <Link to={`/console/subscribers/${s.account_number}`}>{s.account_number}</Link>
                </td>
                <td data-label={t("console.network.login")}>{s.username}</td>
                <td data-label={t("console.network.nas")}>{s.nas_name}</td>
                <td data-label={t("console.network.ip")}>{s.framed_ip ?? "—"}</td>
                <td data-label={t("console.network.since")}>{format.dateTime(s.started_at)}</td>
                <td data-label={t("console.network.traffic")}>
                  ↓ {formatBytes(s.output_octets, locale)} · ↑ {formatBytes(s.input_octets, locale)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {sessions.hasNextPage && (
        <button
          type="button"
          className="button"
          disabled={sessions.isFetchingNextPage}
          onClick={() => {
            void sessions.fetchNextPage();
          }}
        >
          {t("console.queue.loadMore")}
        </button>
      )}
    </section>
  );
}
