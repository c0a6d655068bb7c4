import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { NetworkUsageView } from "../../shared/network/NetworkUsageView";
import { useHasPermission } from "../subscribers/billing";
import { ProblemDetail } from "../subscribers/ProblemDetail";
import {
  LOGIN_KINDS,
  NETWORK_MANAGE,
  NETWORK_READ,
  useAddServiceLogin,
  useDeleteServiceLogin,
  useServiceLogins,
  useSubscriberNetwork,
  type ServiceLoginKind,
} from "./network";
import "./network.css";

/** The subscriber page's network card: service logins (add, delete), sessions and traffic. */
export function ServiceLogins({ accountNumber }: { accountNumber: string }) {
  const { t } = useTranslation();
  const mayRead = useHasPermission(NETWORK_READ);
  const mayManage = useHasPermission(NETWORK_MANAGE);
  const logins = useServiceLogins(accountNumber, mayRead);
  const usage = useSubscriberNetwork(accountNumber, mayRead);
  const remove = useDeleteServiceLogin(accountNumber);
  if (!mayRead) return null;
  const items = logins.data?.items ?? [];
  return (
    <section className="card stack" aria-labelledby="service-logins-title" data-testid="service-logins">
      <h2 id="service-logins-title">{t("console.network.logins")}</h2>
      {logins.isPending && <Loading />}
      {logins.isError && <ErrorNotice error={logins.error} />}
      {remove.error && <ErrorNotice error={remove.error} />}
      {logins.isSuccess && items.length === 0 && (
        <p className="muted" data-testid="service-logins-empty">
          {t("console.network.loginsEmpty")}
        </p>
      )}
      {items.length > 0 && (
        <table className="data-table" data-testid="service-login-list">
          <thead>
            <tr>
              <th scope="col">{t("console.network.login")}</th>
              <th scope="col">{t("console.network.kind")}</th>
              <th scope="col">{t("console.network.staticIp")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("billing.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((login) => (
              <tr key={login.id} data-testid="service-login-row" data-username={login.username}>
                <td className="data-table__primary">
                  <code>{login.username}</code>
                </td>
                <td data-label={t("console.network.kind")}>{t(`console.network.kinds.${login.kind}`)}</td>
                <td data-label={t("console.network.staticIp")}>{login.framed_ip ?? "—"}</td>
                <td>
                  {mayManage && (
                    <button
                      type="button"
                      className="button button--small button--ghost"
                      disabled={remove.isPending}
                      onClick={() => {
                        if (window.confirm(t("console.network.loginDeleteConfirm", { login: login.username }))) {
                          remove.mutate(login.id);
                        }
                      }}
                      data-testid="service-login-delete"
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
      {mayManage && <AddLoginForm accountNumber={accountNumber} />}
      {usage.data && <NetworkUsageView usage={usage.data} />}
    </section>
  );
}

function AddLoginForm({ accountNumber }: { accountNumber: string }) {
  const { t } = useTranslation();
  const id = useId();
  const add = useAddServiceLogin(accountNumber);
  const [kind, setKind] = useState<ServiceLoginKind>("pppoe");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [framedIp, setFramedIp] = useState("");

  function submit(event: FormEvent) {
    event.preventDefault();
    add.mutate(
      {
        kind,
        username: username.trim(),
        password: kind === "pppoe" ? password : null,
        framed_ip: framedIp.trim() === "" ? null : framedIp.trim(),
      },
      {
        onSuccess: () => {
          setUsername("");
          setPassword("");
          setFramedIp("");
        },
      },
    );
  }

  return (
    <form className="form" onSubmit={submit} data-testid="service-login-form">
      <h3>{t("console.network.addLogin")}</h3>
      <div className="network-form__grid">
        <div className="field">
          <label className="field__label" htmlFor={`${id}-kind`}>
            {t("console.network.kind")}
          </label>
          <select
            id={`${id}-kind`}
            value={kind}
            onChange={(e) => {
              setKind(e.target.value as ServiceLoginKind);
            }}
            data-testid="service-login-kind"
          >
            {LOGIN_KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`console.network.kinds.${k}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-username`}>
            {kind === "ipoe_mac" ? t("console.network.mac") : kind === "ipoe_option82" ? t("console.network.circuit") : t("console.network.login")}
          </label>
          <input
            id={`${id}-username`}
            required
            maxLength={253}
            autoComplete="off"
            value={username}
            onChange={(e) => {
              setUsername(e.target.value);
            }}
            data-testid="service-login-username"
          />
        </div>
        {kind === "pppoe" && (
          <div className="field">
            <label className="field__label" htmlFor={`${id}-password`}>
              {t("console.network.password")}
            </label>
            <input
              id={`${id}-password`}
              type="password"
              required
              minLength={6}
              maxLength={128}
              autoComplete="new-password"
              value={password}
              onChange={(e) => {
                setPassword(e.target.value);
              }}
              data-testid="service-login-password"
            />
          </div>
        )}
        <div className="field">
          <label className="field__label" htmlFor={`${id}-ip`}>
            {t("console.network.staticIp")}
          </label>
          <input
            id={`${id}-ip`}
            inputMode="decimal"
            maxLength={45}
            value={framedIp}
            onChange={(e) => {
              setFramedIp(e.target.value);
            }}
            aria-describedby={`${id}-ip-hint`}
            data-testid="service-login-ip"
          />
          <p className="field__hint" id={`${id}-ip-hint`}>
            {t("console.network.staticIpHint")}
          </p>
        </div>
      </div>
      {add.isError && <ProblemDetail error={add.error} />}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={add.isPending} data-testid="service-login-submit">
          {t("console.network.addLoginSubmit")}
        </button>
      </div>
    </form>
  );
}
