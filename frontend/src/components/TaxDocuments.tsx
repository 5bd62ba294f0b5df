// Statements and tax reports, each as a PDF and a CSV, and a tax report made on demand.
// Downloads are plain links: the API authenticates the browser by its session cookie, which a
// same-origin link sends, and the server answers with Content-Disposition: attachment.
import { useState } from "react";

import { ApiError } from "../api/client";
import { tax } from "../api/tax";
import type { TaxDocument } from "../api/tax";
import { formatDate, formatMonth } from "../lib/format";
import { asApiError, useAsync } from "../lib/useAsync";
import { EmptyState, ErrorAlert, Loading, StatusMessage, TableScroll } from "./ui";

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

/**
 * `year`: the year the page shows; `latest`: the year of the last market close. A tax report
 * covers a year that is over, so for the latest year the button offers the one before.
 */
export function TaxDocuments({ year, latest }: { year: number; latest: number }) {
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
          <p>Monthly statements appear here after each month ends. You can create a tax report for any year.</p>
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
      <ErrorAlert error={error ? problemText(error) : null} />
      {done ? <StatusMessage>{done}</StatusMessage> : null}
      {year >= latest ? (
        <p className="field-hint">A tax report covers a whole year, and {latest} isn't over yet.</p>
      ) : null}
      <div className="form-actions">
        <button type="button" className="btn btn-secondary" onClick={() => void createReport()} disabled={busy}>
          {busy ? "Creating…" : `Create tax report for ${reportYear}`}
        </button>
      </div>
    </div>
  );
}
