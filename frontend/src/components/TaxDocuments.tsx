// Statements and tax reports, each as a PDF and a CSV, and either made on demand: an account's
// statement for a month, the tax report for a year. Downloads are plain links: the API
// authenticates the browser by its session cookie, which a same-origin link sends, and the
// server answers with Content-Disposition: attachment.
import { useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../api/client";
import { accountNameWithType, tax } from "../api/tax";
import type { TaxDocument } from "../api/tax";
import type { AccountSummary } from "../api/types";
import { formatDate, formatMonth } from "../lib/format";
import { asApiError, useAsync } from "../lib/useAsync";
import { EmptyState, ErrorAlert, Loading, SelectField, StatusMessage, TableScroll } from "./ui";

function period(doc: TaxDocument): string {
  if (doc.kind === "tax_report") return doc.period_start.slice(0, 4);
  const start = doc.period_start.slice(0, 7);
  const end = doc.period_end.slice(0, 7);
  return start === end ? formatMonth(doc.period_start) : `${formatDate(doc.period_start)} – ${formatDate(doc.period_end)}`;
}

/** The message to show: the server's, or its field errors when it points at fields (no form here). */
function problemText(error: ApiError): string {
  const fields = Object.values(error.fields).flat();
  return fields.length ? fields.join(" ") : error.message;
}

const MONTH_NAMES = Array.from({ length: 12 }, (_, i) =>
  new Intl.DateTimeFormat("en-US", { month: "long", timeZone: "UTC" }).format(new Date(Date.UTC(2000, i, 1))),
);
const MONTHS = MONTH_NAMES.map((name, i) => [String(i + 1), name] as const);

/** The month before the market date's: the latest one that is over. */
function lastMonthOver(marketDate: string | undefined, latest: number): { year: number; month: number } {
  if (!marketDate) return { year: latest - 1, month: 12 };
  const year = Number(marketDate.slice(0, 4));
  const month = Number(marketDate.slice(5, 7));
  return month === 1 ? { year: year - 1, month: 12 } : { year, month: month - 1 };
}

/**
 * An account's statement for a month. Any month can be asked for; the server refuses one that
 * is not over (or before the account had money), and its reasons show next to the fields.
 */
function StatementForm({
  accounts,
  years,
  latest,
  onCreated,
}: {
  accounts: AccountSummary[];
  years: number[];
  latest: number;
  onCreated: (doc: TaxDocument, what: string) => void;
}) {
  const initial = lastMonthOver(accounts[0]?.market_date, latest);
  const [account, setAccount] = useState(accounts[0] ? String(accounts[0].id) : "");
  const [month, setMonth] = useState(String(initial.month));
  const [year, setYear] = useState(String(initial.year));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const yearChoices = Array.from(new Set([...years, initial.year]))
    .sort((a, b) => b - a)
    .map((y) => [String(y), String(y)] as const);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const doc = await tax.createDocument({
        kind: "statement",
        account: Number(account),
        year: Number(year),
        month: Number(month),
      });
      const name = accounts.find((a) => String(a.id) === account)?.goal_name ?? "your account";
      onCreated(doc, `The ${MONTH_NAMES[Number(month) - 1]} ${year} statement of ${name} is ready: ${doc.title}.`);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} noValidate className="form statement-form" aria-labelledby="statement-form-title">
      <h3 id="statement-form-title">Monthly statement</h3>
      <ErrorAlert error={error} />
      <div className="statement-fields">
        <SelectField
          label="Account"
          choices={accounts.map((a) => [String(a.id), accountNameWithType(a.goal_name, a.account_type)] as const)}
          placeholder={null}
          value={account}
          onChange={(e) => setAccount(e.target.value)}
          errors={error?.fields.account}
        />
        <SelectField
          label="Month"
          choices={MONTHS}
          placeholder={null}
          value={month}
          onChange={(e) => setMonth(e.target.value)}
          errors={error?.fields.month}
        />
        <SelectField
          label="Year"
          choices={yearChoices}
          placeholder={null}
          value={year}
          onChange={(e) => setYear(e.target.value)}
          errors={error?.fields.year}
        />
      </div>
      <p className="field-hint">A statement covers a calendar month that is over.</p>
      <div className="form-actions">
        <button type="submit" className="btn btn-secondary" disabled={busy || !account}>
          {busy ? "Creating…" : "Create statement"}
        </button>
      </div>
    </form>
  );
}

/**
 * `year`: the year the page shows; `latest`: the year of the last market close; `years`: the
 * years the page offers. A tax report covers a year that is over, so for the latest year the
 * button offers the one before.
 */
export function TaxDocuments({
  year,
  latest,
  years,
  accounts,
}: {
  year: number;
  latest: number;
  years: number[];
  accounts: AccountSummary[];
}) {
  const reportYear = year < latest ? year : latest - 1;
  const state = useAsync((signal) => tax.documents(null, signal), []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function createReport() {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const doc = await tax.createDocument({ kind: "tax_report", year: reportYear });
      setDone(`Your ${reportYear} tax report is ready: ${doc.title}.`);
      state.reload();
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  const docs = state.data ?? [];
  const missing = state.error?.status === 404;

  return (
    <div className="documents">
      {state.loading && !state.data ? <Loading label="Loading documents…" /> : null}
      {state.error && !missing ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {(state.data && docs.length === 0) || missing ? (
        <EmptyState title="No documents yet">
          <p>Monthly statements appear here after each month ends. You can also create a statement or a tax report below.</p>
        </EmptyState>
      ) : null}
      {docs.length ? (
        <TableScroll label="Your statements and tax reports">
          <table className="table">
            <caption className="visually-hidden">Your statements and tax reports</caption>
            <thead>
              <tr>
                <th scope="col">Document</th>
                <th scope="col">Period</th>
                <th scope="col">Created</th>
                <th scope="col">Download</th>
              </tr>
            </thead>
            <tbody>
              {docs.map((doc) => (
                <tr key={doc.id}>
                  <th scope="row">
                    {doc.title}
                    <span className="muted small"> · {doc.kind === "tax_report" ? "Tax report" : "Statement"}</span>
                  </th>
                  <td>{period(doc)}</td>
                  <td>{formatDate(doc.created_at)}</td>
                  <td className="downloads">
                    <a href={doc.pdf_url} download aria-label={`PDF of ${doc.title}`}>
                      PDF
                    </a>{" "}
                    <a href={doc.csv_url} download aria-label={`CSV of ${doc.title}`}>
                      CSV
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      ) : null}
      {done ? <StatusMessage>{done}</StatusMessage> : null}
      <div className="document-actions">
        {accounts.length ? (
          <StatementForm
            accounts={accounts}
            years={years}
            latest={latest}
            onCreated={(_doc, what) => {
              setError(null);
              setDone(what);
              state.reload();
            }}
          />
        ) : null}
        <section aria-labelledby="tax-report-title">
          <h3 id="tax-report-title">Annual tax report</h3>
          <ErrorAlert error={error ? problemText(error) : null} />
          {year >= latest ? (
            <p className="field-hint">A tax report covers a whole year, and {latest} isn't over yet.</p>
          ) : null}
          <div className="form-actions">
            <button type="button" className="btn btn-secondary" onClick={() => void createReport()} disabled={busy}>
              {busy ? "Creating…" : `Create tax report for ${reportYear}`}
            </button>
          </div>
        </section>
      </div>
    </div>
  );
}
