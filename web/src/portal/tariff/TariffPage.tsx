import type { TFunction } from "i18next";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { TariffChangeResult, TariffChangeRule, TariffOffer } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { usePageTitle } from "../../shared/site/site";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import { useChangeTariff, useTariffCatalogue } from "./tariff";
import "./tariff.css";

type Format = ReturnType<typeof useFormat>;

function speedLabel(t: TFunction, format: Format, mbps: number): string {
  const speed = format.speed(mbps);
  return speed.gigabit
    ? t("portal.dashboard.speedGbit", { speed: speed.value })
    : t("portal.dashboard.speed", { speed: speed.value });
}

/** The 1st of next month, local time: when a next-period change takes effect. */
function nextMonthStart(): string {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth() + 1, 1).toISOString();
}

/**
 * The tariffs on offer as cards: the current one marked, a pending one marked with its date.
 * Choosing another opens a confirmation in its card (new price, the ISP's rule) before anything
 * is sent; the outcome (what was returned and charged, or from when) is shown above the cards.
 */
export function TariffPage() {
  const { t } = useTranslation();
  const format = useFormat();
  usePageTitle(t("portal.tariff.title"));
  const catalogue = useTariffCatalogue();
  const change = useChangeTariff();
  const [choosing, setChoosing] = useState<string>();
  const [done, setDone] = useState<{ name: string; result: TariffChangeResult }>();
  const resultRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!done) return;
    resultRef.current?.scrollIntoView({ block: "nearest" });
    resultRef.current?.focus();
  }, [done]);

  if (catalogue.isPending) return <Loading />;
  if (catalogue.isError) {
    return (
      <ErrorNotice
        error={catalogue.error}
        onRetry={() => {
          void catalogue.refetch();
        }}
      />
    );
  }

  const { rule, current_code, pending, items } = catalogue.data;
  const nameOf = (code: string) => items.find((o) => o.code === code)?.name ?? code;

  return (
    <div className="stack tariff-page" data-testid="tariff-page" data-rule={rule}>
      <header className="page-header">
        <h1>{t("portal.tariff.title")}</h1>
        <p className="muted" data-testid="tariff-rule">
          {t(`portal.tariff.rules.${rule}`)}
        </p>
      </header>

      {done && (
        <div
          ref={resultRef}
          tabIndex={-1}
          className="notice notice--success"
          role="status"
          data-testid="tariff-result"
          data-rule={done.result.rule}
        >
          <ChangeOutcome name={done.name} result={done.result} />
        </div>
      )}
      {pending && !done && (
        <p className="notice notice--info" data-testid="tariff-pending-note">
          {t("portal.tariff.pendingNote", { name: nameOf(pending.code), date: format.date(pending.effective_at) })}
        </p>
      )}

      {items.length === 0 ? (
        <p className="card empty-state">{t("portal.tariff.empty")}</p>
      ) : (
        <ul className="tariff-grid plain-list">
          {items.map((offer) => (
            <li key={offer.code}>
              <OfferCard
                offer={offer}
                rule={rule}
                current={offer.code === current_code}
                pendingFrom={pending?.code === offer.code ? pending.effective_at : undefined}
                confirming={choosing === offer.code}
                pending={change.isPending}
                error={choosing === offer.code ? change.error : null}
                onChoose={() => {
                  change.reset();
                  setChoosing(offer.code);
                }}
                onCancel={() => {
                  change.reset();
                  setChoosing(undefined);
                }}
                onConfirm={() => {
                  change.mutate(offer.code, {
                    onSuccess: (result) => {
                      setChoosing(undefined);
                      setDone({ name: offer.name, result });
                    },
                  });
                }}
              />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function OfferCard({
  offer,
  rule,
  current,
  pendingFrom,
  confirming,
  pending,
  error,
  onChoose,
  onCancel,
  onConfirm,
}: {
  offer: TariffOffer;
  rule: TariffChangeRule;
  current: boolean;
  pendingFrom: string | undefined;
  confirming: boolean;
  pending: boolean;
  error: Error | null;
  onChoose: () => void;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const confirmRef = useRef<HTMLDivElement>(null);
  const titleId = `tariff-${offer.code}-title`;

  useEffect(() => {
    if (!confirming) return;
    confirmRef.current?.scrollIntoView({ block: "nearest" });
    confirmRef.current?.focus();
  }, [confirming]);

  const modifier = current ? " tariff-card--current" : pendingFrom ? " tariff-card--pending" : "";
  return (
    <article
      className={`card tariff-card${modifier}`}
      aria-labelledby={titleId}
      data-testid="tariff-offer"
      data-code={offer.code}
      data-current={current ? "true" : undefined}
      data-pending={pendingFrom ? "true" : undefined}
    >
      <div className="tariff-card__head">
        <h2 id={titleId} className="tariff-card__name">
          {offer.name}
        </h2>
        {current && (
          <Badge tone="success" testId="tariff-current">
            {t("portal.tariff.current")}
          </Badge>
        )}
        {pendingFrom && (
          <Badge tone="info" testId="tariff-pending">
            {t("portal.tariff.pendingFrom", { date: format.date(pendingFrom) })}
          </Badge>
        )}
      </div>
      <p className="tariff-card__speed">{speedLabel(t, format, offer.speed_mbps)}</p>
      <p className="tariff-card__price" data-testid="tariff-price">
        {t("portal.dashboard.monthly", { price: format.money(offer.monthly_price) })}
      </p>

      {confirming ? (
        <div
          ref={confirmRef}
          tabIndex={-1}
          className="confirm-box"
          role="group"
          aria-labelledby={`${titleId}-confirm`}
          data-testid="tariff-confirm"
        >
          <h3 id={`${titleId}-confirm`}>{t("portal.tariff.confirmTitle", { name: offer.name })}</h3>
          <dl className="confirm-box__facts">
            <div>
              <dt>{t("portal.tariff.newPrice")}</dt>
              <dd data-testid="tariff-confirm-price">
                {t("portal.dashboard.monthly", { price: format.money(offer.monthly_price) })}
              </dd>
            </div>
          </dl>
          <p data-testid="tariff-confirm-rule">
            {rule === "immediate_prorated"
              ? t("portal.tariff.confirmImmediate")
              : t("portal.tariff.confirmNextPeriod", { name: offer.name, date: format.date(nextMonthStart()) })}
          </p>
          {error && <ErrorNotice error={error} />}
          <div className="confirm-box__actions">
            <button type="button" className="button button--ghost" onClick={onCancel} disabled={pending}>
              {t("portal.tariff.cancel")}
            </button>
            <button
              type="button"
              className="button button--primary"
              onClick={onConfirm}
              disabled={pending}
              data-testid="tariff-confirm-submit"
            >
              {pending ? t("portal.tariff.confirming") : t("portal.tariff.confirm")}
            </button>
          </div>
        </div>
      ) : (
        !current &&
        !pendingFrom && (
          <div className="tariff-card__actions">
            <button
              type="button"
              className="button button--primary button--block"
              onClick={onChoose}
              disabled={pending}
              data-testid="tariff-choose"
            >
              {t("portal.tariff.choose")}
            </button>
          </div>
        )
      )}
    </article>
  );
}

function ChangeOutcome({ name, result }: { name: string; result: TariffChangeResult }) {
  const { t } = useTranslation();
  const format = useFormat();
  if (result.rule === "next_period") {
    return (
      <p className="notice__headline">
        {t("portal.tariff.changedLater", { name, date: format.date(result.effective_at) })}
      </p>
    );
  }
  const prorated = result.credited.minor !== 0 || result.charged.minor !== 0;
  return (
    <>
      <p className="notice__headline">{t("portal.tariff.changedNow", { name })}</p>
      {prorated ? (
        <dl className="tariff-outcome">
          <div>
            <dt>{t("portal.tariff.credited")}</dt>
            <dd data-testid="tariff-result-credited">{format.signedMoney(result.credited)}</dd>
          </div>
          <div>
            <dt>{t("portal.tariff.charged")}</dt>
            <dd data-testid="tariff-result-charged">
              {format.signedMoney({ ...result.charged, minor: -result.charged.minor })}
            </dd>
          </div>
          <div>
            <dt>{t("portal.tariff.net")}</dt>
            <dd data-testid="tariff-result-net">
              {format.signedMoney({ ...result.credited, minor: result.credited.minor - result.charged.minor })}
            </dd>
          </div>
        </dl>
      ) : (
        <p>{t("portal.tariff.nothingProrated")}</p>
      )}
    </>
  );
}
