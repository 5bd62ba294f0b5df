import { useCallback, useEffect, useId, useRef, useState } from "react";
import type { FormEvent, KeyboardEvent } from "react";
import { createPortal } from "react-dom";

import { ApiError } from "../api/client";
import { chat } from "../api/endpoints";
import type { ChatConversationSummary, ChatEscalation, ChatSource } from "../api/types";
import { formatDateTime } from "../lib/format";

const STORAGE_KEY = "meridian.chat.conversation";
// After a holding ("fallback") reply, look for the real answer a few times, further apart.
const FOLLOW_UP_DELAYS_MS = [2000, 4000, 8000, 15000];
/** The server's limit on a message (nlp/api/serializers.py, ChatQuestionInputSerializer). */
export const CHAT_MAX_LENGTH = 1000;

/** What the server counts: the message without its surrounding whitespace. */
export function chatLength(text: string): number {
  return Array.from(text.trim()).length;
}

function tooLongMessage(length: number): string {
  return (
    `Your message is ${length.toLocaleString("en-US")} characters; the limit is ` +
    `${CHAT_MAX_LENGTH.toLocaleString("en-US")}. Please shorten it, or split it into two questions.`
  );
}

/** Scroll the log so that `message` starts at its top: an answer is read from its start. */
export function scrollToMessageStart(log: HTMLElement, message: HTMLElement): void {
  const offset = message.getBoundingClientRect().top - log.getBoundingClientRect().top;
  log.scrollTop = Math.max(0, log.scrollTop + offset);
}

export interface ChatLine {
  key: string;
  role: "client" | "assistant";
  text: string;
  sources: ChatSource[];
}

function chatErrorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 404) return "The assistant isn't available right now. Please try again later.";
    return error.message;
  }
  return "Something went wrong. Please try again.";
}

function storedConversation(): number | null {
  try {
    const raw = window.sessionStorage.getItem(STORAGE_KEY);
    return raw ? Number(raw) || null : null;
  } catch {
    return null;
  }
}

function storeConversation(id: number | null): void {
  try {
    if (id === null) window.sessionStorage.removeItem(STORAGE_KEY);
    else window.sessionStorage.setItem(STORAGE_KEY, String(id));
  } catch {
    // Private mode without storage: the conversation just doesn't survive a reload.
  }
}

function EscalationNote({ escalation }: { escalation: ChatEscalation }) {
  return (
    <p className={`chat-escalation chat-escalation-${escalation.status}`}>
      {escalation.status === "open"
        ? "Your advisor has been asked to follow up on this conversation."
        : "Your advisor has followed up on this conversation."}{" "}
      <span className="badge">{escalation.status === "open" ? "Open" : "Resolved"}</span>
    </p>
  );
}

/** Phone widths (styles.css's narrow breakpoint): the button docks into the header there. */
export const NARROW_QUERY = "(max-width: 44rem)";

function matchesNarrow(): boolean {
  return typeof window !== "undefined" && typeof window.matchMedia === "function"
    ? window.matchMedia(NARROW_QUERY).matches
    : false;
}

/** True while the window is phone-width; follows rotation and resizing. */
export function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(matchesNarrow);
  useEffect(() => {
    if (typeof window.matchMedia !== "function") return;
    const query = window.matchMedia(NARROW_QUERY);
    const update = () => setNarrow(query.matches);
    update();
    query.addEventListener("change", update);
    return () => query.removeEventListener("change", update);
  }, []);
  return narrow;
}

/**
 * The assistant, available on every page. Everything said is rendered as text, never HTML.
 *
 * On a wide screen its button floats at the bottom right, beside the content. On a phone a
 * floating button would sit on top of the page's text and buttons, so it docks into the header
 * (`dock`, a slot the layout provides) and the panel opens below the header.
 */
export function ChatPanel({ defaultOpen = false, dock = null }: { defaultOpen?: boolean; dock?: HTMLElement | null }) {
  const narrow = useNarrow();
  const docked = Boolean(dock) && narrow;
  const [open, setOpen] = useState(defaultOpen);
  const [conversation, setConversation] = useState<number | null>(storedConversation);
  const [lines, setLines] = useState<ChatLine[]>([]);
  const [escalation, setEscalation] = useState<ChatEscalation | null>(null);
  const [draft, setDraft] = useState("");
  const [sending, setSending] = useState(false);
  const [loadingHistory, setLoadingHistory] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [history, setHistory] = useState<ChatConversationSummary[] | null>(null);
  const [showHistory, setShowHistory] = useState(false);
  const [awaitingAnswer, setAwaitingAnswer] = useState(false);
  const loadedConversation = useRef<number | null>(null);
  const toggleRef = useRef<HTMLButtonElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const logRef = useRef<HTMLDivElement>(null);
  const lineRefs = useRef(new Map<string, HTMLDivElement>());
  const scrolledTo = useRef<string | null>(null);
  const panelId = useId();
  const titleId = useId();
  const inputId = useId();
  const counterId = useId();
  const length = chatLength(draft);
  const tooLong = length > CHAT_MAX_LENGTH;

  const loadConversation = useCallback(async (id: number, quietly = false) => {
    if (!quietly) setLoadingHistory(true);
    setError(null);
    try {
      const data = await chat.conversation(id);
      const last = data.messages[data.messages.length - 1];
      setAwaitingAnswer(Boolean(last && last.role === "assistant" && last.fallback));
      loadedConversation.current = id;
      setConversation(id);
      storeConversation(id);
      setEscalation(data.escalation);
      setLines(
        data.messages.map((m) => ({
          key: `m${m.id}`,
          role: m.role === "client" ? "client" : "assistant",
          text: m.text,
          sources: m.sources ?? [],
        })),
      );
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && loadedConversation.current === null) {
        // The stored conversation is gone (or chat isn't deployed yet): start afresh quietly.
        storeConversation(null);
        setConversation(null);
      } else {
        setError(chatErrorMessage(err));
      }
    } finally {
      setLoadingHistory(false);
    }
  }, []);

  useEffect(() => {
    if (open && conversation !== null && loadedConversation.current !== conversation) {
      void loadConversation(conversation);
    }
  }, [open, conversation, loadConversation]);

  useEffect(() => {
    if (open) inputRef.current?.focus();
  }, [open]);

  // The assistant sent a holding reply: fetch the conversation again until the answer is in.
  useEffect(() => {
    if (!awaitingAnswer || conversation === null) return;
    let attempt = 0;
    let timer: number | undefined;
    let cancelled = false;
    const poll = async () => {
      await loadConversation(conversation, true);
      attempt += 1;
      if (!cancelled && attempt < FOLLOW_UP_DELAYS_MS.length) {
        timer = window.setTimeout(poll, FOLLOW_UP_DELAYS_MS[attempt]);
      }
    };
    timer = window.setTimeout(poll, FOLLOW_UP_DELAYS_MS[0]);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [awaitingAnswer, conversation, loadConversation]);

  // A new answer: its first line at the top of the log, not the bottom of its sources. Anything
  // else (the client's own message, "typing…"): the bottom of the log.
  useEffect(() => {
    const log = logRef.current;
    if (!log) return;
    const last = lines[lines.length - 1];
    if (last?.role === "assistant" && !sending) {
      if (scrolledTo.current === last.key) return;
      scrolledTo.current = last.key;
      const element = lineRefs.current.get(last.key);
      if (element) {
        scrollToMessageStart(log, element);
        return;
      }
    }
    log.scrollTop = log.scrollHeight;
  }, [lines, sending]);

  function close() {
    setOpen(false);
    toggleRef.current?.focus();
  }

  function onPanelKeyDown(event: KeyboardEvent<HTMLElement>) {
    if (event.key === "Escape") {
      event.stopPropagation();
      close();
    }
  }

  async function send(event?: FormEvent) {
    event?.preventDefault();
    const text = draft.trim();
    if (!text || sending) return;
    if (chatLength(text) > CHAT_MAX_LENGTH) {
      // Refused here, whole: never cut short without saying so.
      setError(tooLongMessage(chatLength(text)));
      return;
    }
    setSending(true);
    setError(null);
    const pendingKey = `pending-${Date.now()}`;
    setLines((prev) => [...prev, { key: pendingKey, role: "client", text, sources: [] }]);
    setDraft("");
    try {
      const reply = await chat.send(conversation, text);
      loadedConversation.current = reply.conversation;
      setConversation(reply.conversation);
      storeConversation(reply.conversation);
      setEscalation(reply.escalation);
      setAwaitingAnswer(Boolean(reply.fallback));
      setLines((prev) => [
        ...prev,
        {
          key: `m${reply.message_id}`,
          role: "assistant",
          text: reply.reply,
          sources: reply.sources ?? [],
        },
      ]);
    } catch (err) {
      // Nothing was said: take the message back so it can be sent again.
      setLines((prev) => prev.filter((line) => line.key !== pendingKey));
      setDraft(text);
      setError(chatErrorMessage(err));
    } finally {
      setSending(false);
      inputRef.current?.focus();
    }
  }

  function onInputKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    }
  }

  function newConversation() {
    loadedConversation.current = null;
    storeConversation(null);
    setConversation(null);
    setLines([]);
    setEscalation(null);
    setError(null);
    setShowHistory(false);
    inputRef.current?.focus();
  }

  async function toggleHistory() {
    const next = !showHistory;
    setShowHistory(next);
    if (next) {
      setHistory(null);
      try {
        setHistory((await chat.conversations()).results);
      } catch (err) {
        setShowHistory(false);
        setError(chatErrorMessage(err));
      }
    }
  }

  const toggle = (
      <button
        ref={toggleRef}
        type="button"
        className={`chat-toggle ${open ? "is-open" : ""} ${docked ? "is-docked" : ""}`}
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => (open ? close() : setOpen(true))}
      >
        <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20">
          <path
            d="M4 5h16v11H8l-4 4z"
            fill="none"
            stroke="currentColor"
            strokeWidth="2"
            strokeLinejoin="round"
          />
        </svg>
        <span className="chat-toggle-label">{open ? "Close chat" : "Ask Meridian"}</span>
      </button>
  );

  return (
    <>
      {docked && dock ? createPortal(toggle, dock) : toggle}
      <section
        id={panelId}
        className={`chat-panel ${docked ? "is-docked" : ""}`}
        aria-labelledby={titleId}
        hidden={!open}
        onKeyDown={onPanelKeyDown}
      >
        <div className="chat-head">
          <h2 id={titleId}>Ask Meridian</h2>
          <div className="chat-actions">
            <button type="button" className="btn btn-ghost btn-small" onClick={toggleHistory} aria-pressed={showHistory}>
              History
            </button>
            <button type="button" className="btn btn-ghost btn-small" onClick={newConversation}>
              New chat
            </button>
            <button type="button" className="btn btn-ghost btn-small" onClick={close} aria-label="Close chat">
              ✕
            </button>
          </div>
        </div>

        {showHistory ? (
          <div className="chat-history">
            <h3>Past conversations</h3>
            {history === null ? (
              <p className="muted">Loading…</p>
            ) : history.length === 0 ? (
              <p className="muted">No earlier conversations.</p>
            ) : (
              <ul>
                {history.map((item) => (
                  <li key={item.id}>
                    <button
                      type="button"
                      className="linklike"
                      onClick={() => {
                        setShowHistory(false);
                        void loadConversation(item.id);
                      }}
                    >
                      {formatDateTime(item.updated_at)}
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
        ) : null}

        {escalation ? <EscalationNote escalation={escalation} /> : null}

        <div
          ref={logRef}
          className="chat-log"
          role="log"
          aria-live="polite"
          aria-relevant="additions"
          aria-label="Conversation"
        >
          {lines.length === 0 && !loadingHistory ? (
            <p className="chat-hint">
              Ask about your balance, your goals, fees or how Meridian invests. Your advisor can
              step in when a question needs a person.
            </p>
          ) : null}
          {loadingHistory ? <p className="muted">Loading conversation…</p> : null}
          {lines.map((line) => (
            <div
              key={line.key}
              ref={(element) => {
                if (element) lineRefs.current.set(line.key, element);
                else lineRefs.current.delete(line.key);
              }}
              className={`chat-msg chat-msg-${line.role}`}
              data-testid={`chat-line-${line.key}`}
            >
              <p className="visually-hidden">{line.role === "client" ? "You said:" : "Meridian replied:"}</p>
              <p className="chat-text">{line.text}</p>
              {line.sources.length ? (
                <div className="chat-sources">
                  <p className="chat-sources-title">Sources</p>
                  <ul>
                    {line.sources.map((source) => (
                      <li key={source.slug}>
                        <span className="chat-source-title">{source.title}</span>
                        {source.excerpt ? <span className="chat-source-excerpt">{source.excerpt}</span> : null}
                      </li>
                    ))}
                  </ul>
                </div>
              ) : null}
            </div>
          ))}
          {sending || awaitingAnswer ? (
            <p className="chat-typing" role="status">
              {sending ? "Meridian is typing…" : "Meridian is still working on a full answer…"}
            </p>
          ) : null}
        </div>

        {error ? (
          <div className="alert alert-error chat-error" role="alert">
            {error}
          </div>
        ) : null}

        <form className="chat-form" onSubmit={send}>
          <label htmlFor={inputId} className="visually-hidden">
            Your message
          </label>
          <textarea
            id={inputId}
            ref={inputRef}
            rows={2}
            value={draft}
            placeholder="Type your question…"
            aria-invalid={tooLong || undefined}
            aria-describedby={counterId}
            onChange={(e) => {
              setDraft(e.target.value);
              if (error && error.startsWith("Your message is ")) setError(null);
            }}
            onKeyDown={onInputKeyDown}
          />
          <button type="submit" className="btn btn-primary" disabled={sending || !draft.trim()}>
            {sending ? "Sending…" : "Send"}
          </button>
          <p id={counterId} className={`chat-counter ${tooLong ? "is-over" : ""}`}>
            {length.toLocaleString("en-US")} / {CHAT_MAX_LENGTH.toLocaleString("en-US")}
            {tooLong ? ` — ${(length - CHAT_MAX_LENGTH).toLocaleString("en-US")} over the limit` : ""}
          </p>
        </form>
      </section>
    </>
  );
}
