import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";

/** "Find subscriber by account number": opens that subscriber's billing page. */
export function FindSubscriber() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const id = useId();
  const [value, setValue] = useState("");

  function submit(event: FormEvent) {
    event.preventDefault();
    const account = value.trim();
    if (account === "") return;
    setValue("");
    void navigate(`/console/subscribers/${encodeURIComponent(account)}`);
  }

  return (
    <form className="find-subscriber" role="search" onSubmit={submit} data-testid="find-subscriber">
      <label htmlFor={id} className="visually-hidden">
        {t("console.find.label")}
      </label>
      <input
        id={id}
        type="search"
        autoComplete="off"
        spellCheck={false}
        maxLength={32}
        placeholder={t("console.find.placeholder")}
        title={t("console.find.label")}
        value={value}
        onChange={(e) => {
          setValue(e.target.value);
        }}
        data-testid="find-subscriber-input"
      />
      <button type="submit" className="button button--small" data-testid="find-subscriber-submit">
        {t("console.find.submit")}
      </button>
    </form>
  );
}
