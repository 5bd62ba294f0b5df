import { useId } from "react";
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from "react";

import type { ApiError } from "../api/client";
import type { Choice } from "../lib/choices";

// --- Form fields: a label tied to its control, the hint and errors read with it -------------

interface FieldChrome {
  label: string;
  hint?: ReactNode;
  errors?: string[] | undefined;
  className?: string;
}

function describedBy(id: string, hint: unknown, errors?: string[]): string | undefined {
  const ids = [hint ? `${id}-hint` : "", errors?.length ? `${id}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

function FieldFooter({ id, hint, errors }: { id: string; hint?: ReactNode; errors?: string[] }) {
  return (
    <>
      {hint ? (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      ) : null}
      {errors?.length ? (
        <p id={`${id}-error`} className="field-error">
          {errors.join(" ")}
        </p>
      ) : null}
    </>
  );
}

export function TextField({
  label,
  hint,
  errors,
  className,
  ...input
}: FieldChrome & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        aria-invalid={errors?.length ? true : undefined}
        aria-describedby={describedBy(id, hint, errors)}
        {...input}
      />
      <FieldFooter id={id} hint={hint} errors={errors} />
    </div>
  );
}

export function MoneyField(props: FieldChrome & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const { label, hint, errors, className, ...input } = props;
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={id}>{label}</label>
      <div className="input-affix">
        <span aria-hidden="true">$</span>
        <input
          id={id}
          inputMode="decimal"
          autoComplete="off"
          aria-invalid={errors?.length ? true : undefined}
          aria-describedby={describedBy(id, hint, errors)}
          {...input}
        />
      </div>
      <FieldFooter id={id} hint={hint} errors={errors} />
    </div>
  );
}

export function SelectField({
  label,
  hint,
  errors,
  className,
  choices,
  placeholder = "Choose…",
  ...select
}: FieldChrome & SelectHTMLAttributes<HTMLSelectElement> & {
  choices: readonly Choice[];
  placeholder?: string | null;
}) {
  const id = useId();
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        aria-invalid={errors?.length ? true : undefined}
        aria-describedby={describedBy(id, hint, errors)}
        {...select}
      >
        {placeholder !== null ? <option value="">{placeholder}</option> : null}
        {choices.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
      <FieldFooter id={id} hint={hint} errors={errors} />
    </div>
  );
}

// --- Feedback ------------------------------------------------------------------------------

/** The error at the top of a form or page; announced when it appears. */
export function ErrorAlert({
  error,
  onRetry,
  children,
}: {
  error: ApiError | string | null | undefined;
  onRetry?: () => void;
  children?: ReactNode;
}) {
  if (!error) return null;
  let message = typeof error === "string" ? error : error.message;
  const general = typeof error === "string" ? [] : (error.fields.non_field_errors ?? []);
  if (typeof error !== "string" && message === "Invalid input." && Object.keys(error.fields).length) {
    // The server's generic line; the specifics sit next to each field.
    message = "Please correct the highlighted fields.";
  }
  return (
    <div className="alert alert-error" role="alert">
      <p>{message}</p>
      {general.length ? (
        <ul>
          {general.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      ) : null}
      {children}
      {onRetry ? (
        <button type="button" className="btn btn-secondary btn-small" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** Polite announcements: "Saved", "Deposit received". */
export function StatusMessage({ children, tone = "success" }: { children: ReactNode; tone?: "success" | "info" }) {
  return (
    <div className={`alert alert-${tone}`} role="status">
      {children}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function Card({
  title,
  action,
  children,
  className,
  headingLevel = 2,
}: {
  title?: ReactNode;
  action?: ReactNode;
  children: ReactNode;
  className?: string;
  headingLevel?: 2 | 3;
}) {
  const Heading = headingLevel === 2 ? "h2" : "h3";
  return (
    <section className={`card ${className ?? ""}`}>
      {title || action ? (
        <div className="card-head">
          {title ? <Heading className="card-title">{title}</Heading> : <span />}
          {action}
        </div>
      ) : null}
      {children}
    </section>
  );
}

export function PageHeader({ title, subtitle, action }: { title: string; subtitle?: ReactNode; action?: ReactNode }) {
  return (
    <div className="page-head">
      <div>
        <h1 tabIndex={-1}>{title}</h1>
        {subtitle ? <p className="page-subtitle">{subtitle}</p> : null}
      </div>
      {action}
    </div>
  );
}

/** A button that says it is busy and cannot be pressed twice. */
export function SubmitButton({
  busy,
  children,
  busyLabel,
  className = "btn btn-primary",
  disabled,
}: {
  busy: boolean;
  children: ReactNode;
  busyLabel?: string;
  className?: string;
  disabled?: boolean;
}) {
  return (
    <button type="submit" className={className} disabled={busy || disabled} aria-busy={busy || undefined}>
      {busy ? (
        <>
          <span className="spinner spinner-inline" aria-hidden="true" />
          {busyLabel ?? "Working…"}
        </>
      ) : (
        children
      )}
    </button>
  );
}

/** A wide table's horizontal scroller: a named region that takes focus, so a keyboard can scroll it. */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
