import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { ChatReply } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import { ChatPanel } from "./ChatPanel";

const HOSTILE = '<img src=x onerror="window.pwned=1"><b>bold</b><script>window.pwned=2</script>';

function open() {
  fireEvent.click(screen.getByRole("button", { name: "Ask Meridian" }));
}

function ask(text: string) {
  const input = screen.getByLabelText("Your message");
  fireEvent.change(input, { target: { value: text } });
  fireEvent.keyDown(input, { key: "Enter" });
}

describe("the chat panel", () => {
  it("renders what the client wrote and the reply as text, never as HTML", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(() =>
      json({
        conversation: 12,
        message_id: 40,
        reply: `Your balance is $1,000.00. ${HOSTILE}`,
        intent: "balance",
        confidence: 0.93,
        sources: [{ slug: "fees", title: "<i>How fees work</i>", excerpt: "We charge 0.25% a year." }],
        fallback: false,
        escalation: null,
      } satisfies ChatReply),
    );
    const { container } = render(<ChatPanel />);
    open();

    ask(HOSTILE);

    const log = screen.getByRole("log");
    await within(log).findByText(/Your balance is \$1,000\.00\./);
    expect(container.querySelector("img, b, script, i")).toBeNull();
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
    expect(log.textContent).toContain(HOSTILE); // shown literally, twice
    expect(log.textContent?.split(HOSTILE)).toHaveLength(3);
    expect(within(log).getByText("<i>How fees work</i>")).toBeTruthy();
    expect(calls[0]?.body).toEqual({ conversation: null, text: HOSTILE });
    expect(log.getAttribute("aria-live")).toBe("polite");
  });

  it("continues the conversation and shows an escalation", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch((call) => {
      const first = (call.body as { conversation: number | null }).conversation === null;
      return json({
        conversation: 5,
        message_id: first ? 41 : 43,
        reply: first ? "Hello." : "I've asked your advisor.",
        intent: first ? "greeting" : "human",
        confidence: 0.9,
        sources: [],
        fallback: false,
        escalation: first
          ? null
          : {
              id: 3,
              conversation: 5,
              status: "open",
              reason: "requested",
              created_at: "2026-01-01T00:00:00Z",
              resolved_at: null,
            },
      } satisfies ChatReply);
    });
    render(<ChatPanel />);
    open();

    ask("hi");
    await screen.findByText("Hello.");
    ask("I want to talk to a person");
    await screen.findByText("I've asked your advisor.");

    expect(calls.map((c) => (c.body as { conversation: number | null }).conversation)).toEqual([null, 5]);
    expect(screen.getByText(/Your advisor has been asked to follow up/)).toBeTruthy();
    expect(screen.getByText("Open")).toBeTruthy();
  });

  it("says so when the assistant is unavailable, and keeps the question", async () => {
    document.cookie = "csrftoken=t; path=/";
    mockFetch(() => json({ message: "Not found.", code: "not_found", extra: {} }, 404));
    render(<ChatPanel />);
    open();

    ask("what is my balance?");

    expect((await screen.findByRole("alert")).textContent).toMatch(/isn't available/);
    expect(screen.getByLabelText("Your message")).toHaveProperty("value", "what is my balance?");
    expect(screen.queryByText("what is my balance?", { selector: ".chat-text" })).toBeNull();
  });

  it("opens and closes from the keyboard, returning focus to the toggle", () => {
    render(<ChatPanel />);
    const toggle = screen.getByRole("button", { name: "Ask Meridian" });
    expect(toggle.getAttribute("aria-expanded")).toBe("false");

    fireEvent.click(toggle);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(document.activeElement).toBe(screen.getByLabelText("Your message"));

    fireEvent.keyDown(screen.getByLabelText("Your message"), { key: "Escape" });
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    expect(document.activeElement).toBe(toggle);
  });
});
