import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { beforeEach, describe, expect, it } from "vitest";

import type { AppNotification, AppNotificationList } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import { NotificationPreferencesCard } from "./NotificationPreferencesCard";
import { NotificationsBell } from "./NotificationsBell";

function notice(id: number, title: string, read = false): AppNotification {
  return {
    id,
    kind: "cash_flow",
    title,
    body: `${title}, in full.`,
    link: "/money",
    created_at: "2026-11-29T10:00:00Z",
    read_at: read ? "2026-11-29T11:00:00Z" : null,
    read,
  };
}

function page(results: AppNotification[]): AppNotificationList {
  return { count: results.length, next: null, previous: null, results, unread_count: results.filter((n) => !n.read).length };
}

function renderBell() {
  return render(
    <MemoryRouter>
      <NotificationsBell />
    </MemoryRouter>,
  );
}

describe("the notifications bell", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=t; path=/";
  });

  it("shows the unread count in its badge and its name", async () => {
    mockFetch(() => json(page([notice(2, "Deposit done"), notice(1, "Rebalanced"), notice(0, "Old", true)])));
    renderBell();
    expect(await screen.findByTestId("bell-badge")).toHaveProperty("textContent", "2");
    expect(screen.getByRole("button", { name: "Notifications, 2 unread" })).toBeTruthy();
  });

  it("shows no badge when everything is read", async () => {
    const { calls } = mockFetch(() => json(page([notice(1, "Rebalanced", true)])));
    renderBell();
    await waitFor(() => expect(calls.length).toBe(1));
    expect(screen.queryByTestId("bell-badge")).toBeNull();
    expect(screen.getByRole("button", { name: "Notifications" })).toBeTruthy();
  });

  it("lists the notices, marks one read, then all read", async () => {
    const { calls } = mockFetch((call) => {
      if (call.url.includes("/read-all/")) return json({ marked: 1, unread_count: 0 });
      if (call.url.includes("/2/read/")) return json(notice(2, "Deposit done", true));
      return json(page([notice(2, "Deposit done"), notice(1, "Rebalanced")]));
    });
    renderBell();
    fireEvent.click(await screen.findByRole("button", { name: "Notifications, 2 unread" }));
    const panel = await screen.findByRole("region", { name: "Notifications" });
    expect(await within(panel).findByRole("link", { name: "Deposit done" })).toHaveProperty(
      "href",
      expect.stringContaining("/money"),
    );

    fireEvent.click(within(panel).getByRole("button", { name: "Mark “Deposit done” read" }));
    await waitFor(() => expect(screen.getByTestId("bell-badge").textContent).toBe("1"));
    expect(calls.some((c) => c.method === "POST" && c.url.endsWith("/api/v1/notifications/2/read/"))).toBe(true);

    fireEvent.click(within(panel).getByRole("button", { name: "Mark all read" }));
    await waitFor(() => expect(screen.queryByTestId("bell-badge")).toBeNull());
    expect(calls.some((c) => c.method === "POST" && c.url.endsWith("/api/v1/notifications/read-all/"))).toBe(true);
    expect(within(panel).queryByRole("button", { name: /^Mark “/ })).toBeNull();
  });
});

describe("the notification settings", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=t; path=/";
  });

  it("turns one kind's email off and keeps security emails on", async () => {
    const prefs = [
      { kind: "rebalance", name: "Rebalance executed", in_app: true, email: true, email_editable: true },
      { kind: "new_device", name: "Sign-in from a new device", in_app: true, email: true, email_editable: false },
    ];
    const { calls } = mockFetch((call) =>
      call.method === "PATCH" ? json([{ ...prefs[0], email: false }, prefs[1]]) : json(prefs),
    );
    render(<NotificationPreferencesCard />);
    const rebalance = (await screen.findByLabelText("Rebalance executed")) as HTMLInputElement;
    const device = screen.getByLabelText("Sign-in from a new device") as HTMLInputElement;
    expect(device.disabled).toBe(true);
    fireEvent.click(rebalance);
    await waitFor(() => expect(rebalance.checked).toBe(false));
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ kind: "rebalance", email: false });
  });
});
