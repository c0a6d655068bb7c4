import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { useCannedReplies, useRenderCannedReply } from "./canned";
import "./canned.css";

/**
 * The canned-reply picker next to the reply box: search the team's replies, pick one, and the
 * server fills in its placeholders for this ticket; the agent edits the text before sending.
 */
export function CannedPicker({ ticketId, onInsert }: { ticketId: string; onInsert: (text: string) => void }) {
  const { t } = useTranslation();
  const searchId = useId();
  const [open, setOpen] = useState(false);
  const [q, setQ] = useState("");
  const list = useCannedReplies(q);
  const render = useRenderCannedReply(ticketId);
  const items = list.data?.items ?? [];

  if (!open) {
    return (
      <button
        type="button"
        className="button button--small canned-picker__toggle"
        onClick={() => {
          setOpen(true);
        }}
        data-testid="canned-open"
      >
        {t("ticketTools.canned.insert")}
      </button>
    );
  }
  return (
    <div className="canned-picker" data-testid="canned-picker">
      <div className="canned-picker__head">
        <label htmlFor={searchId} className="field__label">
          {t("ticketTools.canned.search")}
        </label>
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={() => {
            setOpen(false);
          }}
        >
          {t("ticketTools.canned.close")}
        </button>
      </div>
      <input
        id={searchId}
        type="search"
        value={q}
        // The picker opens on the agent's request: focus goes where they will type.
        autoFocus
        placeholder={t("ticketTools.canned.searchHint")}
        onChange={(e) => {
          setQ(e.target.value);
        }}
        data-testid="canned-search"
      />
      {list.isError && <ErrorNotice error={list.error} />}
      {render.error != null && <ErrorNotice error={render.error} />}
      {list.isSuccess && items.length === 0 && <p className="muted">{t("ticketTools.canned.none")}</p>}
      <ul className="canned-picker__list">
        {items.map((c) => (
          <li key={c.id}>
            <button
              type="button"
              className="canned-picker__item"
              disabled={render.isPending}
              onClick={() => {
                render.mutate(c.id, {
                  onSuccess: (r) => {
                    onInsert(r.text);
                    setOpen(false);
                    setQ("");
                  },
                });
              }}
              data-testid="canned-item"
            >
              <span className="canned-picker__title">{c.title}</span>
              {c.category && <span className="badge badge--neutral">{c.category}</span>}
              <span className="canned-picker__preview muted">{c.body}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
