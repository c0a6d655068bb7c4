import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useFormat } from "../../shared/i18n/format";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";
import {
  CODE_PATTERN,
  parsePrice,
  priceText,
  useCatalogueTariffs,
  useSaveTariff,
  usePriceProblem,
  useSetOffered,
  type TariffItem,
} from "./catalogue";
import { ArchiveButton, FieldError, OfferedBadge, SaveError } from "./parts";

const MAX_SPEED = 100_000;

/** Tariffs with how many subscribers are on each; a form to add or edit one. */
export function TariffsTab() {
  const { t } = useTranslation();
  const format = useFormat();
  const list = useCatalogueTariffs();
  const offered = useSetOffered("tariffs");
  // undefined: no form; null: a new tariff; an item: editing it.
  const [editing, setEditing] = useState<TariffItem | null>();
  const [saved, setSaved] = useState<string>();

  if (list.isPending) return <Loading />;
  if (list.isError)
    return (
      <ErrorNotice
        error={list.error}
        onRetry={() => {
          void list.refetch();
        }}
      />
    );
  const { items, currency } = list.data;

  return (
    <section className="stack" aria-label={t("catalogue.tabs.tariffs")}>
      <div className="catalogue-toolbar">
        <p className="muted">{t("catalogue.tariffs.hint")}</p>
        {editing === undefined && (
          <button
            type="button"
            className="button button--primary"
            onClick={() => {
              setSaved(undefined);
              setEditing(null);
            }}
            data-testid="catalogue-new-tariff"
          >
            {t("catalogue.tariffs.new")}
          </button>
        )}
      </div>
      {saved && (
        <p className="notice notice--success" role="status" data-testid="catalogue-saved">
          {saved}
        </p>
      )}
      {editing !== undefined && (
        <TariffForm
          key={editing?.id ?? "new"}
          item={editing ?? undefined}
          currency={currency}
          onDone={(name) => {
            setEditing(undefined);
            if (name) setSaved(t("catalogue.savedItem", { name }));
          }}
        />
      )}
      {offered.error && <ErrorNotice error={offered.error} />}
      {items.length === 0 ? (
        <p className="card empty-state">{t("catalogue.tariffs.empty")}</p>
      ) : (
        <div className="card table-card">
          <table className="data-table" data-testid="catalogue-tariffs">
            <thead>
              <tr>
                <th scope="col">{t("catalogue.fields.name")}</th>
                <th scope="col">{t("catalogue.fields.monthlyPrice")}</th>
                <th scope="col">{t("catalogue.fields.speed")}</th>
                <th scope="col">{t("catalogue.tariffs.subscribers")}</th>
                <th scope="col">{t("catalogue.status")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("billing.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.id} data-testid="catalogue-tariff-row" data-code={item.code} data-active={item.active}>
                  <td className="data-table__primary">
                    {item.name}
                    <span className="catalogue-code">{item.code}</span>
                  </td>
                  <td data-label={t("catalogue.fields.monthlyPrice")}>{format.money(item.monthly_price)}</td>
                  <td data-label={t("catalogue.fields.speed")}>
                    {item.upload_speed_mbps === undefined
                      ? t("catalogue.tariffs.speed", { speed: item.speed_mbps })
                      : t("catalogue.tariffs.speedAsym", { down: item.speed_mbps, up: item.upload_speed_mbps })}
                  </td>
                  <td data-label={t("catalogue.tariffs.subscribers")}>{item.subscribers}</td>
                  <td data-label={t("catalogue.status")}>
                    <OfferedBadge active={item.active} />
                  </td>
                  <td className="catalogue-actions">
                    <button
                      type="button"
                      className="button button--small"
                      onClick={() => {
                        setSaved(undefined);
                        setEditing(item);
                      }}
                      data-testid="catalogue-edit"
                    >
                      {t("catalogue.edit")}
                    </button>
                    <ArchiveButton id={item.id} active={item.active} offered={offered} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function TariffForm({
  item,
  currency,
  onDone,
}: {
  item?: TariffItem;
  currency: string;
  onDone: (savedName?: string) => void;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  const ids = { code: useId(), name: useId(), price: useId(), down: useId(), up: useId() };
  const save = useSaveTariff();
  const priceProblem = usePriceProblem();
  const [code, setCode] = useState(item?.code ?? "");
  const [name, setName] = useState(item?.name ?? "");
  const [price, setPrice] = useState(item ? priceText(item.monthly_price.minor, currency) : "");
  const [down, setDown] = useState(item ? String(item.speed_mbps) : "");
  const [up, setUp] = useState(item?.upload_speed_mbps === undefined ? "" : String(item.upload_speed_mbps));
  const [touched, setTouched] = useState(false);

  const speedProblem = (text: string, required: boolean) => {
    if (text.trim() === "") return required ? t("catalogue.problems.speed") : undefined;
    const n = Number(text);
    return Number.isInteger(n) && n >= 1 && n <= MAX_SPEED ? undefined : t("catalogue.problems.speed");
  };
  const problems = {
    code: item || CODE_PATTERN.test(code.trim()) ? undefined : t("catalogue.problems.code"),
    name: name.trim() === "" ? t("catalogue.problems.name") : undefined,
    price: priceProblem(price, currency, true),
    down: speedProblem(down, true),
    up: speedProblem(up, false),
  };
  const invalid = Object.values(problems).some(Boolean);
  const parsedPrice = parsePrice(price, currency);
  const show = (text: string | undefined) => (touched ? text : undefined);

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (invalid || !parsedPrice.ok) return;
    save.mutate(
      {
        id: item?.id,
        code: code.trim(),
        fields: {
          name: name.trim(),
          monthly_price_minor: parsedPrice.minor,
          speed_mbps: Number(down),
          upload_speed_mbps: up.trim() === "" ? null : Number(up),
        },
      },
      {
        onSuccess: (result) => {
          onDone(result.name);
        },
      },
    );
  }

  return (
    <form className="card form catalogue-form" onSubmit={submit} noValidate data-testid="catalogue-tariff-form">
      <h2>{item ? t("catalogue.tariffs.editTitle", { name: item.name }) : t("catalogue.tariffs.newTitle")}</h2>
      {item && item.subscribers > 0 && (
        <p className="notice notice--info">{t("catalogue.tariffs.priceFromNextCharge", { count: item.subscribers })}</p>
      )}
      <div className="catalogue-form__grid">
        <div className="field">
          <label className="field__label" htmlFor={ids.code}>
            {t("catalogue.fields.code")}
          </label>
          <input
            id={ids.code}
            value={code}
            disabled={item !== undefined}
            maxLength={64}
            autoCapitalize="off"
            spellCheck={false}
            aria-invalid={show(problems.code) ? true : undefined}
            aria-describedby={`${ids.code}-hint`}
            onChange={(e) => {
              setCode(e.target.value);
            }}
            data-testid="catalogue-code"
          />
          <p className="field__hint" id={`${ids.code}-hint`}>
            {item ? t("catalogue.fields.codeFixed") : t("catalogue.fields.codeHint")}
          </p>
          <FieldError text={show(problems.code)} />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={ids.name}>
            {t("catalogue.fields.name")}
          </label>
          <input
            id={ids.name}
            value={name}
            maxLength={200}
            aria-invalid={show(problems.name) ? true : undefined}
            onChange={(e) => {
              setName(e.target.value);
            }}
            data-testid="catalogue-name"
          />
          <FieldError text={show(problems.name)} />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={ids.price}>
            {t("catalogue.fields.monthlyPriceIn", { currency: format.currencySymbol(currency) })}
          </label>
          <input
            id={ids.price}
            value={price}
            inputMode="decimal"
            aria-invalid={show(problems.price) ? true : undefined}
            onChange={(e) => {
              setPrice(e.target.value);
            }}
            data-testid="catalogue-price"
          />
          <FieldError text={show(problems.price)} />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={ids.down}>
            {t("catalogue.fields.download")}
          </label>
          <input
            id={ids.down}
            value={down}
            inputMode="numeric"
            aria-invalid={show(problems.down) ? true : undefined}
            onChange={(e) => {
              setDown(e.target.value);
            }}
            data-testid="catalogue-speed"
          />
          <FieldError text={show(problems.down)} />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={ids.up}>
            {t("catalogue.fields.upload")}
          </label>
          <input
            id={ids.up}
            value={up}
            inputMode="numeric"
            aria-invalid={show(problems.up) ? true : undefined}
            aria-describedby={`${ids.up}-hint`}
            onChange={(e) => {
              setUp(e.target.value);
            }}
            data-testid="catalogue-upload"
          />
          <p className="field__hint" id={`${ids.up}-hint`}>
            {t("catalogue.fields.uploadHint")}
          </p>
          <FieldError text={show(problems.up)} />
        </div>
      </div>
      {save.error && <SaveError error={save.error} />}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={save.isPending} data-testid="catalogue-save">
          {t("catalogue.save")}
        </button>
        <button
          type="button"
          className="button"
          onClick={() => {
            onDone();
          }}
        >
          {t("catalogue.cancel")}
        </button>
      </div>
    </form>
  );
}
