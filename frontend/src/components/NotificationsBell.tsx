import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router";

import { notifications } from "../api/endpoints";
import type { AppNotification } from "../api/types";

// How often the badge asks for the unread count while the app is open.
const POLL_MS = 60_000;

function badgeText(count: number): string {
  return count > 99 ? "99+" : String(count);
}

function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** The header's bell: the unread count, and a list to read and mark read. */
export function NotificationsBell() {
  const [unread, setUnread] = useState(0);
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState<AppNotification[] | null>(null);
  const [more, setMore] = useState(false);
  const [page, setPage] = useState(1);
  const [error, setError] = useState(false);
  const root = useRef<HTMLDivElement>(null);

  const load = useCallback(async (wanted: number, signal?: AbortSignal) => {
    try {
      const body = await notifications.list(wanted, signal);
      setItems((now) => (wanted === 1 || now === null ? body.results : [...now, ...body.results]));
      setUnread(body.unread_count);
      setMore(Boolean(body.next));
      setPage(wanted);
      setError(false);
    } catch (err) {
      if ((err as Error).name !== "AbortError") setError(true);
    }
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    void load(1, controller.signal);
    const timer = window.setInterval(() => {
      notifications
        .unreadCount(controller.signal)
        .then((body) => setUnread(body.unread_count))
        .catch(() => undefined); // the next poll tries again
    }, POLL_MS);
    return () => {
      controller.abort();
      window.clearInterval(timer);
    };
  }, [load]);

  useEffect(() => {
    if (!open) return;
    function onKey(event: KeyboardEvent) {
      if (event.key === "Escape") setOpen(false);
    }
    function onClick(event: MouseEvent) {
      if (root.current && !root.current.contains(event.target as Node)) setOpen(false);
    }
    document.addEventListener("keydown", onKey);
    document.addEventListener("mousedown", onClick);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("mousedown", onClick);
    };
  }, [open]);

  function toggle() {
    const next = !open;
    setOpen(next);
    if (next) void load(1);
  }

  async function markRead(item: AppNotification) {
    if (item.read) return;
    try {
      const updated = await notifications.markRead(item.id);
      setItems((now) => now?.map((n) => (n.id === item.id ? updated : n)) ?? null);
      setUnread((count) => Math.max(0, count - 1));
    } catch {
      setError(true);
    }
  }

  async function markAllRead() {
    try {
      await notifications.markAllRead();
      const now = new Date().toISOString();
      setItems((list) => list?.map((n) => (n.read ? n : { ...n, read: true, read_at: now })) ?? null);
      setUnread(0);
    } catch {
      setError(true);
    }
  }

  const label = unread ? `Notifications, ${unread} unread` : "Notifications";

  return (
    <div className="bell" ref={root}>
      <button
        type="button"
        className="btn btn-ghost btn-small bell-button"
        aria-label={label}
        aria-expanded={open}
        aria-controls="notifications-panel"
        onClick={toggle}
      >
        <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2">
          <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
          <path d="M13.73 21a2 2 0 0 1-3.46 0" />
        </svg>
        {unread > 0 ? (
          <span className="bell-badge" data-testid="bell-badge">
            {badgeText(unread)}
          </span>
        ) : null}
      </button>
      {open ? (
        <div id="notifications-panel" className="bell-panel" role="region" aria-label="Notifications">
          <div className="bell-head">
            <h2>Notifications</h2>
            <button type="button" className="btn btn-ghost btn-small" onClick={markAllRead} disabled={unread === 0}>
              Mark all read
            </button>
          </div>
          {error ? <p className="bell-error">Couldn't load notifications. Try again in a moment.</p> : null}
          {items === null ? (
            <p className="bell-empty">Loading…</p>
          ) : items.length === 0 ? (
            <p className="bell-empty">No notifications yet.</p>
          ) : (
            <ul className="bell-list">
              {items.map((item) => (
                <li key={item.id} className={item.read ? "bell-item" : "bell-item bell-unread"}>
                  {item.link ? (
                    <Link
                      to={item.link}
                      className="bell-title"
                      onClick={() => {
                        void markRead(item);
                        setOpen(false);
                      }}
                    >
                      {item.title}
                    </Link>
                  ) : (
                    <span className="bell-title">{item.title}</span>
                  )}
                  {item.body ? <p className="bell-body">{item.body}</p> : null}
                  <div className="bell-meta">
                    <time dateTime={item.created_at}>{when(item.created_at)}</time>
                    {item.read ? null : (
                      <button
                        type="button"
                        className="btn btn-ghost btn-small"
                        onClick={() => void markRead(item)}
                        aria-label={`Mark “${item.title}” read`}
                      >
                        Mark read
                      </button>
                    )}
                  </div>
                </li>
              ))}
            </ul>
          )}
          {more ? (
            <button type="button" className="btn btn-ghost btn-small bell-more" onClick={() => void load(page + 1)}>
              Show older
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
