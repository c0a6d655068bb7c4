import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import type { components } from "../../api/schema";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { formatBytes } from "../../console/plan/plan";
import "./plans.css";

type Plan = components["schemas"]["Plan"];
type Feature = Plan["features"][number];
const FEATURES: Feature[] = ["online_payments", "custom_domains", "network"];
const GIB = 1024 ** 3;

/** The operator's price list: plans with their price per active subscriber, limits and features. */
export function PlansPage() {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  usePageTitle(t("saasPlans.platform.title"));
  const plans = useQuery({ queryKey: ["platform", "plans"], queryFn: () => data(api.GET("/platform/plans")) });
  const [editing, setEditing] = useState<Plan | "new" | null>(null);
  const limit = (value: number | undefined, bytes = false) =>
    value === undefined
      ? t("saasPlans.unlimited")
      : bytes
        ? formatBytes(value, i18n.language)
        : format.number(value);

  return (
    <div className="stack">
      <header className="page-header plans-header">
        <h1>{t("saasPlans.platform.title")}</h1>
        <button
          type="button"
          className="button"
          onClick={() => {
            setEditing("new");
          }}
          data-testid="plan-new"
        >
          {t("saasPlans.platform.new")}
        </button>
      </header>
      {plans.isPending && <Loading />}
      {plans.isError && (
        <ErrorNotice
          error={plans.error}
          onRetry={() => {
            void plans.refetch();
          }}
        />
      )}
      {plans.data && (
        <div className="card table-card">
          <table className="data-table" data-testid="plan-table">
            <thead>
              <tr>
                <th scope="col">{t("saasPlans.platform.name")}</th>
                <th scope="col">{t("saasPlans.platform.price")}</th>
                <th scope="col">{t("saasPlans.platform.limits")}</th>
                <th scope="col">{t("saasPlans.platform.features")}</th>
                <th scope="col">{t("saasPlans.platform.tenants")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("saasPlans.platform.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {plans.data.items.map((plan) => (
                <tr key={plan.code} data-testid="plan-row" data-code={plan.code}>
                  <td className="data-table__primary">
                    {plan.name} <span className="muted">({plan.code})</span>{" "}
                    {plan.archived && <Badge tone="neutral">{t("saasPlans.platform.archived")}</Badge>}
                  </td>
                  <td data-label={t("saasPlans.platform.price")}>
                    {format.money({ minor: plan.price_per_subscriber, currency: plan.currency })}
                  </td>
                  <td data-label={t("saasPlans.platform.limits")}>
                    <dl className="plan-limits">
                      <dt>{t("saasPlans.limits.subscribers")}</dt>
                      <dd data-testid="plan-max-subscribers">{limit(plan.max_subscribers)}</dd>
                      <dt>{t("saasPlans.limits.staff_seats")}</dt>
                      <dd>{limit(plan.max_staff_seats)}</dd>
                      <dt>{t("saasPlans.limits.storage")}</dt>
                      <dd>{limit(plan.max_storage_bytes, true)}</dd>
                    </dl>
                  </td>
                  <td data-label={t("saasPlans.platform.features")}>
                    {plan.features.map((f) => t(`saasPlans.features.${f}`)).join(", ") || "—"}
                  </td>
                  <td data-label={t("saasPlans.platform.tenants")}>{format.number(plan.tenants)}</td>
                  <td>
                    <button
                      type="button"
                      className="button button--ghost button--small"
                      onClick={() => {
                        setEditing(plan);
                      }}
                      data-testid="plan-edit"
                    >
                      {t("saasPlans.platform.edit")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {plans.data && <MoveTenant plans={plans.data.items.filter((p) => !p.archived)} />}
      {editing && (
        <PlanDialog
          plan={editing === "new" ? null : editing}
          onClose={() => {
            setEditing(null);
          }}
        />
      )}
    </div>
  );
}

/** A limit field: empty means unlimited. */
function toLimit(value: string, scale = 1): number | null {
  const trimmed = value.trim();
  if (!trimmed) return null;
  return Math.round(Number(trimmed) * scale);
}

function PlanDialog({ plan, onClose }: { plan: Plan | null; onClose: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const client = useQueryClient();
  const dialog = useRef<HTMLDialogElement>(null);
  const [code, setCode] = useState("");
  const [name, setName] = useState(plan?.name ?? "");
  const [price, setPrice] = useState(plan ? String(plan.price_per_subscriber / 100) : "");
  const [currency, setCurrency] = useState(plan?.currency ?? "RUB");
  const [subscribers, setSubscribers] = useState(plan?.max_subscribers?.toString() ?? "");
  const [seats, setSeats] = useState(plan?.max_staff_seats?.toString() ?? "");
  const [storage, setStorage] = useState(
    plan?.max_storage_bytes === undefined ? "" : String(Math.round((plan.max_storage_bytes / GIB) * 10) / 10),
  );
  const [features, setFeatures] = useState<Feature[]>(plan?.features ?? []);
  const [archived, setArchived] = useState(plan?.archived ?? false);
  useEffect(() => {
    if (!dialog.current?.open) dialog.current?.showModal();
  }, []);
  const save = useMutation({
    mutationFn: () => {
      const body = {
        name: name.trim(),
        price_per_subscriber: Math.round(Number(price.replace(",", ".")) * 100),
        currency: currency.trim().toUpperCase(),
        max_subscribers: toLimit(subscribers),
        max_staff_seats: toLimit(seats),
        max_storage_bytes: toLimit(storage.replace(",", "."), GIB),
        features,
      };
      return plan
        ? data(api.PUT("/platform/plans/{code}", { params: { path: { code: plan.code } }, body: { ...body, archived } }))
        : data(api.POST("/platform/plans", { body: { ...body, code: code.trim() } }));
    },
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ["platform"] });
      dialog.current?.close();
      onClose();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!save.isPending) save.mutate();
  };
  const field = (key: string, label: string, input: React.ReactNode, hint?: string) => (
    <div className="field">
      <label className="field__label" htmlFor={`${id}-${key}`}>
        {label}
      </label>
      {input}
      {hint && <p className="field__hint muted">{hint}</p>}
    </div>
  );
  return (
    <dialog ref={dialog} className="plan-dialog" onClose={onClose} aria-labelledby={`${id}-title`}>
      <form className="form" onSubmit={submit} data-testid="plan-form">
        <h2 id={`${id}-title`}>{plan ? t("saasPlans.platform.editTitle", { name: plan.name }) : t("saasPlans.platform.new")}</h2>
        {!plan &&
          field(
            "code",
            t("saasPlans.platform.code"),
            <input
              id={`${id}-code`}
              required
              maxLength={32}
              pattern="[a-z0-9][a-z0-9\-]*"
              value={code}
              onChange={(e) => {
                setCode(e.target.value);
              }}
              data-testid="plan-code"
            />,
            t("saasPlans.platform.codeHint"),
          )}
        {field(
          "name",
          t("saasPlans.platform.name"),
          <input
            id={`${id}-name`}
            required
            maxLength={100}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
            }}
            data-testid="plan-name"
          />,
        )}
        <div className="plan-dialog__row">
          {field(
            "price",
            t("saasPlans.platform.price"),
            <input
              id={`${id}-price`}
              required
              inputMode="decimal"
              value={price}
              onChange={(e) => {
                setPrice(e.target.value);
              }}
              data-testid="plan-price"
            />,
          )}
          {field(
            "currency",
            t("saasPlans.platform.currency"),
            <input
              id={`${id}-currency`}
              required
              minLength={3}
              maxLength={3}
              value={currency}
              onChange={(e) => {
                setCurrency(e.target.value);
              }}
            />,
          )}
        </div>
        <p className="muted">{t("saasPlans.platform.limitsHint")}</p>
        <div className="plan-dialog__row">
          {field(
            "subscribers",
            t("saasPlans.limits.subscribers"),
            <input
              id={`${id}-subscribers`}
              type="number"
              min={0}
              value={subscribers}
              onChange={(e) => {
                setSubscribers(e.target.value);
              }}
              data-testid="plan-subscribers"
            />,
          )}
          {field(
            "seats",
            t("saasPlans.limits.staff_seats"),
            <input
              id={`${id}-seats`}
              type="number"
              min={1}
              value={seats}
              onChange={(e) => {
                setSeats(e.target.value);
              }}
              data-testid="plan-seats"
            />,
          )}
          {field(
            "storage",
            t("saasPlans.platform.storageGib"),
            <input
              id={`${id}-storage`}
              inputMode="decimal"
              value={storage}
              onChange={(e) => {
                setStorage(e.target.value);
              }}
              data-testid="plan-storage"
            />,
          )}
        </div>
        <fieldset className="plan-dialog__features">
          <legend>{t("saasPlans.platform.features")}</legend>
          {FEATURES.map((f) => (
            <label key={f} className="checkbox">
              <input
                type="checkbox"
                checked={features.includes(f)}
                onChange={(e) => {
                  setFeatures(e.target.checked ? [...features, f] : features.filter((x) => x !== f));
                }}
              />{" "}
              {t(`saasPlans.features.${f}`)}
            </label>
          ))}
        </fieldset>
        {plan && (
          <label className="checkbox">
            <input
              type="checkbox"
              checked={archived}
              onChange={(e) => {
                setArchived(e.target.checked);
              }}
              data-testid="plan-archived"
            />{" "}
            {t("saasPlans.platform.archiveLabel")}
          </label>
        )}
        {save.isError && <ErrorNotice error={save.error} />}
        <div className="plan-dialog__actions">
          <button type="submit" className="button" disabled={save.isPending} data-testid="plan-save">
            {t("saasPlans.platform.save")}
          </button>
          <button
            type="button"
            className="button button--ghost"
            onClick={() => {
              dialog.current?.close();
            }}
          >
            {t("saasPlans.platform.cancel")}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** Moves an ISP onto another plan (recorded in the ISP's audit log with the operator's name). */
function MoveTenant({ plans }: { plans: Plan[] }) {
  const { t } = useTranslation();
  const id = useId();
  const client = useQueryClient();
  const tenants = useQuery({
    queryKey: ["platform", "tenants", ""],
    queryFn: () => data(api.GET("/platform/tenants", { params: { query: {} } })),
  });
  const [slug, setSlug] = useState("");
  const [code, setCode] = useState("");
  const current = tenants.data?.items.find((x) => x.slug === slug);
  const move = useMutation({
    mutationFn: () => data(api.PUT("/platform/tenants/{slug}/plan", { params: { path: { slug } }, body: { plan: code } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["platform"] }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (slug && code && !move.isPending) move.mutate();
  };
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t("saasPlans.platform.moveTitle")}</h2>
      <form className="form plan-move" onSubmit={submit} data-testid="plan-move">
        <div className="field">
          <label className="field__label" htmlFor={`${id}-tenant`}>
            {t("saasPlans.platform.tenant")}
          </label>
          <select
            id={`${id}-tenant`}
            value={slug}
            required
            onChange={(e) => {
              setSlug(e.target.value);
              move.reset();
            }}
            data-testid="plan-move-tenant"
          >
            <option value="">—</option>
            {tenants.data?.items.map((x) => (
              <option key={x.slug} value={x.slug}>
                {x.name} ({x.saas_plan})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-plan`}>
            {t("saasPlans.platform.newPlan")}
          </label>
          <select
            id={`${id}-plan`}
            value={code}
            required
            onChange={(e) => {
              setCode(e.target.value);
              move.reset();
            }}
            data-testid="plan-move-plan"
          >
            <option value="">—</option>
            {plans.map((p) => (
              <option key={p.code} value={p.code}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <button
          type="submit"
          className="button"
          disabled={!slug || !code || code === current?.saas_plan || move.isPending}
          data-testid="plan-move-save"
        >
          {t("saasPlans.platform.move")}
        </button>
      </form>
      {move.isSuccess && (
        <p className="notice notice--info" role="status" data-testid="plan-move-done">
          {t("saasPlans.platform.moved", { name: current?.name ?? slug, plan: move.data.saas_plan })}
        </p>
      )}
      {move.isError && <ErrorNotice error={move.error} />}
    </section>
  );
}
