import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation } from "react-router";
import { useFormat } from "../../shared/i18n/format";
import { useMyTicketsLive } from "../../shared/live";
import { useMarkNotificationsRead, useMyNotifications } from "./notifications";
import "./notifications.css";

type Notice = NonNullable<ReturnType<typeof useMyNotifications>["data"]>["items"][number];

/** Where a notification leads: its ticket, the ticket a merged one went into, or (an outage
 * notice) the dashboard with the outage banner. */
function target(n: Notice): string {
  if (n.kind === "ticket_merged" && n.merged_into_ticket_id !== undefined) return `/tickets/${n.merged_into_ticket_id}`;
  if (n.ticket_id !== undefined) return `/tickets/${n.ticket_id}`;
  return "/";
}

/** The header's bell: unread count, the latest notifications, each leading to its ticket (or,
 * for an outage, to the dashboard). */
export function NotificationBell() {
  const { t } = useTranslation();
  const format = useFormat();
  const list = useMyNotifications();
  // Live over server-sent events; the list's own polling stays as the fallback.
  useMyTicketsLive();
  const markRead = useMarkNotificationsRead();
  const root = useRef<HTMLDivElement>(null);
  const location = useLocation();
  // Open on the page where it was opened: following a link (going anywhere) closes it.
  const [openOn, setOpenOn] = useState<string | null>(null);
  const open = openOn === location.pathname;
  const setOpen = (value: boolean) => {
    setOpenOn(value ? location.pathname : null);
  };
  const unread = list.data?.unread ?? 0;

  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpenOn(null);
    };
    document.addEventListener("mousedown", close);
    return () => {
      document.removeEventListener("mousedown", close);
    };
  }, [open]);

  return (
    <div className="bell" ref={root}>
      <button
        type="button"
        className="bell__button"
        aria-expanded={open}
        aria-label={unread > 0 ? `${t("notifications.bell")}: ${t("notifications.unread", { count: unread })}` : t("notifications.bell")}
        onClick={() => {
          setOpen(!open);
        }}
        data-testid="notification-bell"
      >
        <svg viewBox="0 0 24 24" aria-hidden="true" className="bell__icon">
          <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
          <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
        </svg>
        {unread > 0 && (
          <span className="bell__count" data-testid="notification-count">
            {unread > 99 ? "99+" : unread}
          </span>
        )}
      </button>
      {open && (
        <div className="bell__panel" role="dialog" aria-label={t("notifications.bell")} data-testid="notification-panel">
          <div className="bell__head">
            <strong>{t("notifications.bell")}</strong>
            {unread > 0 && (
              <button
                type="button"
                className="button button--ghost button--small"
                disabled={markRead.isPending}
                onClick={() => {
                  markRead.mutate(undefined);
                }}
                data-testid="notifications-mark-all"
              >
                {t("notifications.markAllRead")}
              </button>
            )}
          </div>
          {list.data && list.data.items.length === 0 && <p className="muted bell__empty">{t("notifications.empty")}</p>}
          <ul className="bell__list">
            {list.data?.items.map((n) => (
              <li key={n.id} className={n.read ? "bell__item" : "bell__item bell__item--unread"}>
                <Link
                  to={target(n)}
                  onClick={() => {
                    if (!n.read) markRead.mutate([n.id]);
                  }}
                  data-testid="notification"
                  data-kind={n.kind}
                  data-read={String(n.read)}
                >
                  <span className="bell__text">
                    {t(`notifications.${n.kind}`, {
                      number: n.ticket_number ?? "",
                      into: n.merged_into_number ?? "",
                      title: n.incident_title ?? "",
                      status: n.status ? t(`ticket.statuses.${n.status}`) : "",
                    })}
                  </span>
                  {n.ticket_subject !== undefined && <span className="bell__subject">{n.ticket_subject}</span>}
                  <time className="muted bell__time" dateTime={n.created_at}>
                    {format.dateTime(n.created_at)}
                  </time>
                </Link>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
