import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import type { ConsoleTicketDetail, TicketPriority, TicketStatus } from "../../api/types";
import { useFormat } from "../../shared/i18n/format";
import { TicketStatusBadge } from "../../shared/tickets/TicketStatusBadge";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import {
  NEXT_STATUSES,
  TICKET_PRIORITIES,
  useSetAssignee,
  useSetPriority,
  useSetStatus,
  useSetTags,
  useTicketAgents,
} from "./tickets";

function DueLine({
  label,
  due,
  done,
  breached,
  paused,
  testId,
}: {
  label: string;
  due: string | undefined;
  done?: string;
  breached: boolean;
  paused: boolean;
  testId: string;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <div data-testid={testId}>
      <dt>{label}</dt>
      <dd>
        {due ? <time dateTime={due}>{format.dateTime(due)}</time> : "—"}{" "}
        {breached ? (
          <Badge tone="danger">{t("console.desk.overdue")}</Badge>
        ) : done ? (
          <Badge tone="success">{t("console.desk.met")}</Badge>
        ) : paused ? (
          <Badge tone="neutral">{t("console.desk.paused")}</Badge>
        ) : null}
      </dd>
    </div>
  );
}

/** Status, priority, assignee, tags and SLA of a ticket, editable with `tickets.manage`. */
export function DeskPanel({ ticket, mayManage }: { ticket: ConsoleTicketDetail; mayManage: boolean }) {
  const { t } = useTranslation();
  const ids = { status: useId(), priority: useId(), assignee: useId(), tags: useId() };
  const setStatus = useSetStatus(ticket.id);
  const setPriority = useSetPriority(ticket.id);
  const setAssignee = useSetAssignee(ticket.id);
  const setTags = useSetTags(ticket.id);
  const agents = useTicketAgents();
  const [tagText, setTagText] = useState<string | null>(null);
  const me = agents.data?.items.find((a) => a.me);
  const error = setStatus.error ?? setPriority.error ?? setAssignee.error ?? setTags.error;
  const tagsValue = tagText ?? ticket.tags.join(", ");
  const closed = ticket.status === "closed";

  function saveTags(event: FormEvent) {
    event.preventDefault();
    const tags = tagsValue
      .split(",")
      .map((tag) => tag.trim())
      .filter((tag) => tag !== "");
    setTags.mutate(tags, {
      onSuccess: () => {
        setTagText(null);
      },
    });
  }

  return (
    <aside className="card desk-panel" aria-label={t("console.desk.panel")} data-testid="desk-panel">
      <dl className="desk-panel__fields">
        <div>
          <dt>
            <label htmlFor={ids.status}>{t("ticket.status")}</label>
          </dt>
          <dd>
            {mayManage && !closed ? (
              <select
                id={ids.status}
                value={ticket.status}
                disabled={setStatus.isPending}
                onChange={(e) => {
                  setStatus.mutate(e.target.value as TicketStatus);
                }}
                data-testid="desk-status"
              >
                {[ticket.status, ...NEXT_STATUSES[ticket.status]].map((s) => (
                  <option key={s} value={s}>
                    {t(`ticket.statuses.${s}`)}
                  </option>
                ))}
              </select>
            ) : (
              <TicketStatusBadge status={ticket.status} />
            )}
          </dd>
        </div>
        <div>
          <dt>
            <label htmlFor={ids.priority}>{t("ticket.priority")}</label>
          </dt>
          <dd>
            {mayManage && !closed ? (
              <select
                id={ids.priority}
                value={ticket.priority}
                disabled={setPriority.isPending}
                onChange={(e) => {
                  setPriority.mutate(e.target.value as TicketPriority);
                }}
                data-testid="desk-priority"
              >
                {TICKET_PRIORITIES.map((p) => (
                  <option key={p} value={p}>
                    {t(`ticket.priorities.${p}`)}
                  </option>
                ))}
              </select>
            ) : (
              t(`ticket.priorities.${ticket.priority}`)
            )}
          </dd>
        </div>
        <div>
          <dt>
            <label htmlFor={ids.assignee}>{t("console.desk.assignee")}</label>
          </dt>
          <dd>
            {mayManage ? (
              <div className="desk-panel__row">
                <select
                  id={ids.assignee}
                  value={ticket.assignee?.id ?? ""}
                  disabled={setAssignee.isPending}
                  onChange={(e) => {
                    setAssignee.mutate(e.target.value === "" ? null : e.target.value);
                  }}
                  data-testid="desk-assignee"
                >
                  <option value="">{t("console.desk.nobody")}</option>
                  {agents.data?.items.map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.display_name}
                    </option>
                  ))}
                </select>
                {me && ticket.assignee?.id !== me.id && (
                  <button
                    type="button"
                    className="button button--small"
                    disabled={setAssignee.isPending}
                    onClick={() => {
                      setAssignee.mutate(me.id);
                    }}
                    data-testid="desk-assign-me"
                  >
                    {t("console.desk.takeIt")}
                  </button>
                )}
              </div>
            ) : (
              (ticket.assignee?.display_name ?? t("console.desk.nobody"))
            )}
          </dd>
        </div>
        <div>
          <dt>
            <label htmlFor={ids.tags}>{t("console.desk.tags")}</label>
          </dt>
          <dd>
            {mayManage ? (
              <form className="desk-panel__row" onSubmit={saveTags}>
                <input
                  id={ids.tags}
                  value={tagsValue}
                  placeholder={t("console.desk.tagsHint")}
                  onChange={(e) => {
                    setTagText(e.target.value);
                  }}
                  data-testid="desk-tags"
                />
                {tagText !== null && (
                  <button type="submit" className="button button--small" disabled={setTags.isPending}>
                    {t("console.desk.save")}
                  </button>
                )}
              </form>
            ) : ticket.tags.length > 0 ? (
              ticket.tags.join(", ")
            ) : (
              "—"
            )}
          </dd>
        </div>
        <DueLine
          label={t("console.desk.firstResponseDue")}
          due={ticket.sla.first_response_due_at}
          done={ticket.sla.first_responded_at}
          breached={ticket.sla.first_response_breached}
          paused={false}
          testId="desk-first-response"
        />
        <DueLine
          label={t("console.desk.resolutionDue")}
          due={ticket.sla.resolution_due_at}
          done={ticket.status === "resolved" || ticket.status === "closed" ? "done" : undefined}
          breached={ticket.sla.resolution_breached}
          paused={ticket.sla.paused}
          testId="desk-resolution"
        />
      </dl>
      {error != null && <ErrorNotice error={error} />}
    </aside>
  );
}
