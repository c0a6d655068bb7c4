import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Field } from "../../shared/ui/Field";
import { Loading } from "../../shared/ui/Loading";
import { useHasPermission } from "../subscribers/billing";
import {
  DOMAINS_MANAGE,
  useAddDomain,
  useDomains,
  useRemoveDomain,
  useVerifyDomain,
  type CustomDomain,
} from "./domains";
import "./domains.css";
import { CopyButton } from "../../shared/ui/CopyButton";
import { PlanFeatureNotice } from "../plan/PlanFeatureNotice";

/** Problem codes this page words itself (the generic notice covers the rest). */
const OWN_CODES = ["invalid_domain", "domain_is_platform", "domain_already_added", "domain_taken", "domain_limit_reached"] as const;
type OwnCode = (typeof OWN_CODES)[number];

function isOwnCode(code: string): code is OwnCode {
  return (OWN_CODES as readonly string[]).includes(code);
}

function DomainProblem({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (error instanceof ApiError && isOwnCode(error.code)) {
    return (
      <div className="notice notice--error" role="alert" data-testid="domain-error" data-code={error.code}>
        <p className="notice__headline">{t(`domains.errors.${error.code}`)}</p>
        {error.code === "invalid_domain" && error.detail && <p className="notice__detail">{error.detail}</p>}
      </div>
    );
  }
  return <ErrorNotice error={error} />;
}

/**
 * Custom domains: the ISP adds its own address, creates the TXT record this page names, and
 * presses "check"; once proven, the portal and the console answer there too.
 */
export function DomainsPage() {
  const { t } = useTranslation();
  usePageTitle(t("domains.title"));
  const mayManage = useHasPermission(DOMAINS_MANAGE);
  const list = useDomains();

  return (
    <div className="stack domains-page">
      <header className="page-header">
        <h1>{t("domains.title")}</h1>
        <p className="muted">{t("domains.intro")}</p>
      </header>
      <PlanFeatureNotice feature="custom_domains" />
      {!mayManage ? (
        <p className="notice notice--info">{t("domains.forbidden")}</p>
      ) : list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />
      ) : (
        <>
          <section className="card domains-platform" data-testid="domains-platform">
            <h2>{t("domains.platformTitle")}</h2>
            <p>
              <code className="domains-code">{list.data.cname_target}</code>
            </p>
            <p className="muted">{t("domains.platformHint")}</p>
          </section>
          <AddForm atLimit={list.data.items.length >= list.data.max_domains} max={list.data.max_domains} />
          {list.data.items.length === 0 ? (
            <p className="empty-state card" data-testid="domains-empty">
              {t("domains.empty")}
            </p>
          ) : (
            <ul className="domains-list" data-testid="domains-list">
              {list.data.items.map((d) => (
                <DomainCard key={d.host} domain={d} cnameTarget={list.data.cname_target} />
              ))}
            </ul>
          )}
        </>
      )}
    </div>
  );
}

function AddForm({ atLimit, max }: { atLimit: boolean; max: number }) {
  const { t } = useTranslation();
  const add = useAddDomain();
  const [domain, setDomain] = useState("");

  function submit(event: FormEvent) {
    event.preventDefault();
    if (add.isPending || !domain.trim()) return;
    add.mutate(domain.trim(), {
      onSuccess: () => {
        setDomain("");
      },
    });
  }

  return (
    <form className="card form domains-add" onSubmit={submit} data-testid="domain-add-form">
      <h2>{t("domains.addTitle")}</h2>
      <Field label={t("domains.domain")} hint={t("domains.domainHint")}>
        {(control) => (
          <input
            {...control}
            required
            maxLength={300}
            inputMode="url"
            autoCapitalize="none"
            autoCorrect="off"
            spellCheck={false}
            placeholder="lk.provider.ru"
            value={domain}
            onChange={(e) => {
              setDomain(e.target.value);
            }}
            data-testid="domain-input"
          />
        )}
      </Field>
      {atLimit && <p className="muted">{t("domains.atLimit", { max })}</p>}
      {add.isError && <DomainProblem error={add.error} />}
      <div className="form__actions">
        <button
          type="submit"
          className="button button--primary"
          disabled={add.isPending || atLimit}
          data-testid="domain-add"
        >
          {add.isPending ? t("domains.adding") : t("domains.add")}
        </button>
      </div>
    </form>
  );
}


function RecordRow({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="domains-record__row">
      <dt>{label}</dt>
      <dd>
        <code className="domains-code" data-testid={testId}>
          {value}
        </code>
        <CopyButton text={value} testId={`${testId}-copy`} />
      </dd>
    </div>
  );
}

/** The domain reached the way this console is (same scheme and port), so it works in development too. */
function siteUrl(host: string) {
  const { protocol, port } = window.location;
  return `${protocol}//${host}${port ? `:${port}` : ""}/`;
}

const STATUS_BADGE = { pending: "badge--neutral", verified: "badge--success", failed: "badge--warning" } as const;

function DomainCard({ domain, cnameTarget }: { domain: CustomDomain; cnameTarget: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const verify = useVerifyDomain();
  const remove = useRemoveDomain();
  const verified = domain.status === "verified";

  return (
    <li className="card domains-item" data-testid="domain-item" data-host={domain.host} data-status={domain.status}>
      <div className="domains-item__head">
        <h2 className="domains-item__host">
          {domain.display_host}
          {domain.display_host !== domain.host && <span className="muted domains-item__ascii"> ({domain.host})</span>}
        </h2>
        <span className={`badge ${STATUS_BADGE[domain.status]}`} data-testid="domain-status">
          {t(`domains.status.${domain.status}`)}
        </span>
      </div>
      {verified ? (
        <p className="muted" data-testid="domain-verified-note">
          {t("domains.verifiedNote", { date: domain.verified_at ? format.dateTime(domain.verified_at) : "" })}{" "}
          <a href={siteUrl(domain.host)} target="_blank" rel="noreferrer">
            {t("domains.open")}
          </a>
        </p>
      ) : (
        <p className="muted">{t("domains.steps")}</p>
      )}
      <details className="domains-records" open={!verified}>
        <summary>{t("domains.recordsTitle")}</summary>
        <h3 className="domains-records__title">{t("domains.txtTitle")}</h3>
        <dl className="domains-record" data-testid="domain-txt">
          <RecordRow label={t("domains.recordType")} value="TXT" testId="domain-txt-type" />
          <RecordRow label={t("domains.recordName")} value={domain.txt_name} testId="domain-txt-name" />
          <RecordRow label={t("domains.recordValue")} value={domain.txt_value} testId="domain-txt-value" />
        </dl>
        <h3 className="domains-records__title">{t("domains.cnameTitle")}</h3>
        <dl className="domains-record" data-testid="domain-cname">
          <RecordRow label={t("domains.recordType")} value="CNAME" testId="domain-cname-type" />
          <RecordRow label={t("domains.recordName")} value={domain.host} testId="domain-cname-name" />
          <RecordRow label={t("domains.recordTarget")} value={`${cnameTarget}.`} testId="domain-cname-value" />
        </dl>
        <p className="muted domains-records__hint">{t("domains.cnameHint")}</p>
      </details>
      {domain.failure && (
        <div
          className={`notice ${verified ? "notice--warning" : "notice--error"}`}
          role="status"
          data-testid="domain-failure"
          data-failure={domain.failure}
        >
          <p className="notice__headline">
            {t(`domains.failure.${domain.failure}`, {
              name: domain.txt_name,
              found: domain.failure_detail ?? "",
              detail: domain.failure_detail ?? "",
            })}
          </p>
          {domain.checked_at && (
            <p className="notice__detail">{t("domains.checkedAt", { date: format.dateTime(domain.checked_at) })}</p>
          )}
          {domain.serving_until && (
            <p className="notice__detail" data-testid="domain-serving-until">
              {t("domains.servingUntil", { date: format.date(domain.serving_until) })}
            </p>
          )}
        </div>
      )}
      {verify.isError && <ErrorNotice error={verify.error} />}
      {remove.isError && <ErrorNotice error={remove.error} />}
      <div className="domains-item__actions">
        <button
          type="button"
          className="button button--primary"
          disabled={verify.isPending}
          onClick={() => {
            verify.mutate(domain.host);
          }}
          data-testid="domain-verify"
        >
          {verify.isPending ? t("domains.verifying") : t("domains.verify")}
        </button>
        <button
          type="button"
          className="button button--ghost domains-remove"
          disabled={remove.isPending}
          onClick={() => {
            if (window.confirm(t("domains.confirmRemove", { host: domain.display_host }))) remove.mutate(domain.host);
          }}
          data-testid="domain-remove"
        >
          {t("domains.remove")}
        </button>
      </div>
    </li>
  );
}
