import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { SubscriberDraft } from "./draft";
import { useTariffChoices } from "./subscribers";

/** Name, contacts, address and tariff; the account number only when creating. */
export function SubscriberFields({
  draft,
  onChange,
  withAccountNumber,
}: {
  draft: SubscriberDraft;
  onChange: (draft: SubscriberDraft) => void;
  withAccountNumber: boolean;
}) {
  const { t } = useTranslation();
  const id = useId();
  const tariffs = useTariffChoices();
  const field = (key: keyof SubscriberDraft, props: { type?: string; maxLength: number; required?: boolean; inputMode?: "tel" | "email" }) => (
    <div className="field">
      <label className="field__label" htmlFor={`${id}-${key}`}>
        {t(`console.subscribers.fields.${key}`)}
      </label>
      <input
        id={`${id}-${key}`}
        type={props.type ?? "text"}
        inputMode={props.inputMode}
        maxLength={props.maxLength}
        required={props.required}
        autoComplete="off"
        value={draft[key]}
        onChange={(e) => {
          onChange({ ...draft, [key]: e.target.value });
        }}
        data-testid={`subscriber-field-${key}`}
      />
    </div>
  );
  return (
    <>
      {withAccountNumber && field("account_number", { maxLength: 32, required: true })}
      {field("full_name", { maxLength: 200, required: true })}
      {field("email", { type: "email", maxLength: 254, inputMode: "email" })}
      {field("phone", { type: "tel", maxLength: 32, inputMode: "tel" })}
      {field("address", { maxLength: 300 })}
      <div className="field">
        <label className="field__label" htmlFor={`${id}-tariff`}>
          {t("console.subscribers.fields.tariff")}
        </label>
        <select
          id={`${id}-tariff`}
          value={draft.tariff}
          onChange={(e) => {
            onChange({ ...draft, tariff: e.target.value });
          }}
          data-testid="subscriber-field-tariff"
        >
          <option value="">{t("console.subscribers.noTariff")}</option>
          {tariffs.data?.items.map((tariff) => (
            <option key={tariff.code} value={tariff.code}>
              {tariff.name}
            </option>
          ))}
        </select>
      </div>
    </>
  );
}
