import { useTranslation } from "react-i18next";
import { useFormat } from "../../shared/i18n/format";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { useHasPermission } from "../subscribers/billing";
import { SHIFT_WORK, useMyShift, useOnShift, useSetMyShift } from "./assignment";
import "./assignment.css";

/** The queue header's shift switch ("На смене / Не на смене") and how many agents are on shift. */
export function ShiftToggle() {
  const { t } = useTranslation();
  const format = useFormat();
  const mayWork = useHasPermission(SHIFT_WORK);
  const shift = useMyShift(mayWork);
  const onShift = useOnShift();
  const toggle = useSetMyShift();
  const on = shift.data?.on_shift === true;
  const count = onShift.data?.items.length;

  return (
    <div className="shift-toggle" data-testid="shift-toggle">
      {mayWork && shift.data !== undefined && (
        <button
          type="button"
          role="switch"
          aria-checked={on}
          className={`shift-toggle__switch ${on ? "shift-toggle__switch--on" : ""}`}
          disabled={toggle.isPending}
          onClick={() => {
            toggle.mutate(!on);
          }}
          data-testid="shift-switch"
        >
          <span className="shift-toggle__dot" aria-hidden="true" />
          {on ? t("assignment.shift.on") : t("assignment.shift.off")}
        </button>
      )}
      <span className="shift-toggle__meta">
        {on && shift.data?.started_at !== undefined && (
          <span data-testid="shift-since">{t("assignment.shift.since", { time: format.dateTime(shift.data.started_at) })}</span>
        )}
        {count !== undefined && (
          <span
            title={onShift.data?.items.map((a) => a.display_name).join(", ")}
            data-testid="shift-count"
            data-count={count}
          >
            {t("assignment.shift.count", { count })}
          </span>
        )}
      </span>
      {toggle.error != null && <ErrorNotice error={toggle.error} />}
    </div>
  );
}
