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
  useOnlineSessions,
  useRegisterNas,
  VENDORS,
  type NasRegistered,
  type NasVendor,
} from "./network";
import "./network.css";

/** NAS of the ISP (register: the secret is shown once; delete) and who is online now. */
export function NetworkPage() {
  const { t } = useTranslation();
  usePageTitle(t("console.network.title"));
  const mayManage = useHasPermission(NETWORK_MANAGE);
  const list = useNasList();
  const remove = useDeleteNas();
  const nas = list.data?.pages.flatMap((page) => page.items) ?? [];
  const [registered, setRegistered] = useState<NasRegistered>();

  return (
    <div className="stack network-page">
      <header className="page-header">
        <h1>{t("console.network.title")}</h1>
        <p className="muted">{t("console.network.intro")}</p>
      </header>
      {registered && (
        <div className="notice notice--success" role="status" data-testid="nas-secret">
          <p>{t("console.network.secretOnce", { name: registered.nas.name })}</p>
          <code className="network-secret" data-testid="nas-secret-value">
            {registered.secret}
          </code>
        </div>
      )}
      {mayManage && (
        <section className="card">
          <RegisterNasForm onRegistered={setRegistered} />
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
                  <td>
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
      <OnlineSessions />
    </div>
  );
}

function RegisterNasForm({ onRegistered }: { onRegistered: (nas: NasRegistered) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const register = useRegisterNas();
  const [name, setName] = useState("");
  const [address, setAddress] = useState("");
  const [vendor, setVendor] = useState<NasVendor>("mikrotik");
  const [area, setArea] = useState("");

  function submit(event: FormEvent) {
    event.preventDefault();
    register.mutate(
      { name: name.trim(), address: address.trim(), vendor, area: area.trim(), coa_port: null },
      {
        onSuccess: (result) => {
          setName("");
          setAddress("");
          setArea("");
          onRegistered(result);
        },
      },
    );
  }

  return (
    <form className="form network-form" onSubmit={submit} data-testid="nas-form">
      <h2>{t("console.network.register")}</h2>
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
      </div>
      {register.isError && <ProblemDetail error={register.error} />}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={register.isPending} data-testid="nas-submit">
          {t("console.network.registerSubmit")}
        </button>
      </div>
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
