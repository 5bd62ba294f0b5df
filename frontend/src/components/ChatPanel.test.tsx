import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import type { ChatReply } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import { CHAT_MAX_LENGTH, ChatPanel } from "./ChatPanel";

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

  it("counts characters against the server's limit and refuses a longer message whole", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(() => json({}, 500));
    render(<ChatPanel />);
    open();
    const input = screen.getByLabelText("Your message");

    fireEvent.change(input, { target: { value: "How are my goals doing?" } });
    expect(screen.getByText("23 / 1,000")).toBeTruthy();
    expect(input.getAttribute("maxlength")).toBeNull(); // nothing is cut off silently

    const long = "a".repeat(CHAT_MAX_LENGTH + 5);
    ask(long);

    expect(screen.getByText(/1,005 \/ 1,000/).textContent).toContain("5 over the limit");
    expect((await screen.findByRole("alert")).textContent).toBe(
      "Your message is 1,005 characters; the limit is 1,000. Please shorten it, or split it into two questions.",
    );
    expect((input as HTMLTextAreaElement).value).toBe(long); // kept, to be shortened
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(calls).toHaveLength(0);

    fireEvent.change(input, { target: { value: "a".repeat(CHAT_MAX_LENGTH) } });
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("scrolls a new answer's first line into view, not the bottom of its sources", async () => {
    document.cookie = "csrftoken=t; path=/";
    mockFetch(() =>
      json({
        conversation: 9,
        message_id: 77,
        reply: "A long answer. ".repeat(40),
        intent: "fees",
        confidence: 0.9,
        sources: [{ slug: "fees", title: "How fees work", excerpt: "We charge 0.25% a year." }],
        fallback: false,
        escalation: null,
      } satisfies ChatReply),
    );
    // Layout, which jsdom lacks: the log's box starts 100px down the viewport and its content
    // is 2,000px tall; the answer starts 320px into that content.
    let scrollTop = 0;
    const rect = vi.spyOn(HTMLElement.prototype, "getBoundingClientRect").mockImplementation(function (
      this: HTMLElement,
    ) {
      if (this.getAttribute("role") === "log") return { top: 100 } as DOMRect;
      if (this.dataset.testid === "chat-line-m77") return { top: 100 + 320 - scrollTop } as DOMRect;
      return { top: 0 } as DOMRect;
    });
    render(<ChatPanel />);
    open();
    const log = screen.getByRole("log");
    Object.defineProperty(log, "scrollTop", {
      configurable: true,
      get: () => scrollTop,
      set: (value: number) => {
        scrollTop = value;
      },
    });
    Object.defineProperty(log, "scrollHeight", { configurable: true, get: () => 2000 });

    ask("What do I pay?");
    await within(log).findByText(/A long answer/);

    // The answer's top at the log's top, once the reply has rendered with sending over (the
    // text may show a render before that, scrolled to the bottom while "sending").
    await waitFor(() => expect(scrollTop).toBe(320));
    rect.mockRestore();
  });
});

describe("the chat button on a phone", () => {
  function stubWidth(narrow: boolean) {
    vi.stubGlobal("matchMedia", (query: string) => ({
      matches: narrow && query === "(max-width: 44rem)",
      media: query,
      addEventListener: () => {},
      removeEventListener: () => {},
    }));
  }

  it("docks into the header's slot, so it never floats over the page", () => {
    stubWidth(true);
    mockFetch(() => json({}, 404));
    const dock = document.createElement("span");
    document.body.appendChild(dock);
    render(<ChatPanel dock={dock} />);
    const toggle = screen.getByRole("button", { name: "Ask Meridian" });
    expect(dock.contains(toggle)).toBe(true);
    expect(toggle.className).toContain("is-docked");
    open();
    // The panel opens below the header; the button there now closes it and gets focus back.
    fireEvent.keyDown(screen.getByLabelText("Your message"), { key: "Escape" });
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Ask Meridian" }));
    dock.remove();
  });

  it("floats on a wide screen, the dock left empty", () => {
    stubWidth(false);
    mockFetch(() => json({}, 404));
    const dock = document.createElement("span");
    document.body.appendChild(dock);
    render(<ChatPanel dock={dock} />);
    expect(dock.childElementCount).toBe(0);
    expect(screen.getByRole("button", { name: "Ask Meridian" }).className).not.toContain("is-docked");
    dock.remove();
  });
});
