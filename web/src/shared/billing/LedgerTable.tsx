import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { Movement } from "../../api/types";
import { useFormat } from "../i18n/format";
import { describeMovement } from "./describe";
import "./billing.css";

function tone(movement: Movement): "up" | "down" | "zero" {
  if (movement.amount.minor > 0) return "up";
  if (movement.amount.minor < 0) return "down";
  return "zero";
}

/**
 * Balance movements, newest first: a table on wide screens, one card per movement on a phone.
 * The amount is signed (and coloured) by what it did to the balance.
 */
export function LedgerTable({
  items,
  highlight,
  action,
}: {
  items: readonly Movement[];
  highlight?: string;
  /** What staff may do to a movement (the console's "Reverse"), in a last column. */
  action?: (movement: Movement) => ReactNode;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <table className="data-table ledger" data-testid="ledger">
      <thead>
        <tr>
          <th scope="col">{t("billing.date")}</th>
          <th scope="col">{t("billing.operation")}</th>
          <th scope="col">{t("billing.reference")}</th>
          <th scope="col" className="numeric">
            {t("billing.amount")}
          </th>
          {action && (
            <th scope="col">
              <span className="visually-hidden">{t("billing.actions")}</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {items.map((movement) => {
          const detail = describeMovement(movement, t, format);
          const reference = movement.reference?.trim();
          return (
            <tr
              key={movement.id}
              className={movement.id === highlight ? "ledger__row ledger__row--new" : "ledger__row"}
              data-testid="ledger-row"
              data-kind={movement.kind}
              data-reference={reference || undefined}
            >
              <td className="ledger__date">
                <time dateTime={movement.at}>{format.dateTime(movement.at)}</time>
              </td>
              <td className="ledger__what">
                <span className="ledger__kind">{t(`billing.kinds.${movement.kind}`)}</span>
                {detail && <span className="ledger__detail">{detail}</span>}
              </td>
              <td className="ledger__reference" data-testid="ledger-reference">
                {reference ? (
                  <>
                    <span className="ledger__label">{t("billing.reference")}: </span>
                    <span className="ledger__reference-value">{reference}</span>
                  </>
                ) : (
                  <span className="ledger__none" aria-hidden="true">
                    —
                  </span>
                )}
              </td>
              <td className={`numeric ledger__amount ledger__amount--${tone(movement)}`} data-testid="ledger-amount">
                {format.signedMoney(movement.amount)}
              </td>
              {action && <td className="ledger__action">{action(movement)}</td>}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
