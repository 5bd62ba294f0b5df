// Pending tax-loss harvests: each with its preview (the lots sold, the loss, the tax it saves,
// the replacement fund and why), and Approve / Not now. Approving sells and buys, so it asks
// for confirmation first; nothing moves until the client confirms.
import { useState } from "react";

import { ApiError } from "../api/client";
import { replacementWhy, tax } from "../api/tax";
import type { TaxHarvest } from "../api/tax";
import { compareDecimal, formatDate, formatGain, formatMoney, formatPercent, formatUnits, sumDecimal } from "../lib/format";
import { asApiError, useAsync } from "../lib/useAsync";
import { EmptyState, ErrorAlert, Loading, StatusMessage, TableScroll } from "./ui";

/** "-1234.50" → "1234.50": a loss shown as an amount. */
function magnitude(value: string): string {
  return value.trim().replace(/^-/, "");
}

function isLoss(value: string): boolean {
  return compareDecimal(value, "0") !== 0 && value.trim().startsWith("-");
}

/** "at your 24% bracket", or both rates when the loss is partly short-term and partly long-term. */
export function rateWording(harvest: Pick<TaxHarvest, "short_term_gain" | "long_term_gain" | "tax_rate_short" | "tax_rate_long">): string {
  const short = compareDecimal(harvest.short_term_gain, "0") !== 0;
  const long = compareDecimal(harvest.long_term_gain, "0") !== 0;
  const shortRate = formatPercent(harvest.tax_rate_short, { digits: 0 });
  const longRate = formatPercent(harvest.tax_rate_long, { digits: 0 });
  if (long && !short) return `at your ${longRate} long-term rate`;
  if (long && short) return `at your ${shortRate} bracket (${longRate} on the long-term part)`;
  return `at your ${shortRate} bracket`;
}

function HarvestPreview({
  harvest,
  accountName,
  onDone,
  onStale,
}: {
  harvest: TaxHarvest;
  accountName: string;
  onDone: (message: string) => void;
  onStale: (message: string) => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const net = sumDecimal([harvest.short_term_gain, harvest.long_term_gain]);
  const headingId = `harvest-${harvest.id}-title`;
  const switchBack = harvest.kind === "switch_back";

  async function decide(approve: boolean) {
    setBusy(true);
    setError(null);
    try {
      if (approve) await tax.approveHarvest(harvest.id);
      else await tax.rejectHarvest(harvest.id);
      onDone(
        approve
          ? `Approved: ${harvest.sell} will be sold and ${harvest.buy} bought at the next market close.`
          : `Not now: nothing was sold in ${accountName}.`,
      );
    } catch (err) {
      const problem = asApiError(err);
      // Stale (prices or holdings moved since the preview): say so, and load the fresh list.
      if (problem.status === 409) onStale(problem.message);
      else setError(problem);
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <article className="harvest" aria-labelledby={headingId} data-testid={`harvest-${harvest.id}`}>
      <h3 id={headingId} className="harvest-title">
        {switchBack ? "Switch back" : "Harvest a loss"} in {accountName}: sell {harvest.sell}, buy{" "}
        {harvest.buy}
      </h3>
      <dl className="facts">
        {!switchBack || isLoss(net) ? (
          <div>
            <dt>{isLoss(net) ? "Loss harvested" : "Gain realised"}</dt>
            <dd>{formatMoney(magnitude(net))}</dd>
          </div>
        ) : null}
        <div>
          <dt>{isLoss(harvest.tax_saved) ? "Estimated tax on the gain" : "Estimated tax saved"}</dt>
          <dd data-testid="harvest-tax-saved">{formatMoney(magnitude(harvest.tax_saved))}</dd>
        </div>
        <div>
          <dt>Sell</dt>
          <dd>
            {formatUnits(harvest.units)} {harvest.sell} at {formatMoney(harvest.price)} (about{" "}
            {formatMoney(harvest.proceeds)})
          </dd>
        </div>
        <div>
          <dt>Buy</dt>
          <dd>
            about {formatUnits(harvest.buy_units)} {harvest.buy} at {formatMoney(harvest.buy_price)}
          </dd>
        </div>
      </dl>
      {compareDecimal(magnitude(harvest.tax_saved), "0") !== 0 ? (
        <p>
          {isLoss(harvest.tax_saved) ? "Estimated tax on the gain" : "Estimated tax saved"}{" "}
          {formatMoney(magnitude(harvest.tax_saved))} {rateWording(harvest)}.
        </p>
      ) : null}
      <p className="small">
        <span className="muted">Why {harvest.buy}: </span>
        {harvest.reason || null}
        {harvest.reason ? " " : null}
        {replacementWhy(harvest)}
      </p>
      <details>
        <summary>
          {harvest.lots.length} lot{harvest.lots.length === 1 ? "" : "s"} sold (prices of {formatDate(harvest.market_date)})
        </summary>
        <TableScroll label={`Lots of ${harvest.sell} this would sell`}>
          <table className="table compact">
            <caption className="visually-hidden">
              Lots of {harvest.sell} this would sell
            </caption>
            <thead>
              <tr>
                <th scope="col">Bought</th>
                <th scope="col" className="num">Units</th>
                <th scope="col" className="num">Cost basis</th>
                <th scope="col" className="num">Proceeds</th>
                <th scope="col" className="num">Gain or loss</th>
                <th scope="col">Term</th>
              </tr>
            </thead>
            <tbody>
              {harvest.lots.map((lot) => (
                <tr key={lot.lot}>
                  <th scope="row">{formatDate(lot.acquired_on)}</th>
                  <td className="num">{formatUnits(lot.units)}</td>
                  <td className="num">{formatMoney(lot.cost_basis)}</td>
                  <td className="num">{formatMoney(lot.proceeds)}</td>
                  <td className={`num ${isLoss(lot.gain) ? "neg" : ""}`}>{formatGain(lot.gain)}</td>
                  <td>{lot.term === "long" ? "Long-term" : "Short-term"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      </details>
      <ErrorAlert error={error} />
      {confirming ? (
        <div className="confirm-box" role="group" aria-label={`Confirm: sell ${harvest.sell}, buy ${harvest.buy}`}>
          <p>
            Sell <strong>{formatUnits(harvest.units)} units of {harvest.sell}</strong> (about{" "}
            {formatMoney(harvest.proceeds)}) and buy <strong>{harvest.buy}</strong> with the proceeds at the
            next market close. Nothing moves until you confirm.
          </p>
          <div className="form-actions">
            <button type="button" className="btn btn-secondary" onClick={() => setConfirming(false)} disabled={busy}>
              Cancel
            </button>
            <button type="button" className="btn btn-primary" onClick={() => void decide(true)} disabled={busy}>
              {busy ? "Approving…" : `Confirm: sell ${harvest.sell}, buy ${harvest.buy}`}
            </button>
          </div>
        </div>
      ) : (
        <div className="form-actions">
          <button type="button" className="btn btn-secondary" onClick={() => void decide(false)} disabled={busy}>
            Not now
          </button>
          <button type="button" className="btn btn-primary" onClick={() => setConfirming(true)} disabled={busy}>
            Approve…
          </button>
        </div>
      )}
    </article>
  );
}

/** The client's pending harvests, newest first. */
export function TaxHarvests({ accountNames }: { accountNames: Record<number, string> }) {
  const state = useAsync((signal) => tax.harvests("pending", signal), []);
  const [notice, setNotice] = useState<string | null>(null);
  const [stale, setStale] = useState<string | null>(null);

  if (state.loading && !state.data) return <Loading label="Loading harvests…" />;
  if (state.error && state.error.status === 404) {
    return (
      <EmptyState title="No harvests to review">
        <p>When a fund in a taxable account falls below what you paid, we'll propose selling it here to bank the loss.</p>
      </EmptyState>
    );
  }
  return (
    <div className="harvests">
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {stale ? <ErrorAlert error={stale} /> : null}
      {notice ? <StatusMessage>{notice}</StatusMessage> : null}
      {state.data && state.data.length === 0 ? (
        <EmptyState title="No harvests to review">
          <p>When a fund in a taxable account falls below what you paid, we'll propose selling it here to bank the loss.</p>
        </EmptyState>
      ) : null}
      {state.data?.map((harvest) => (
        <HarvestPreview
          key={harvest.id}
          harvest={harvest}
          accountName={accountNames[harvest.account] ?? `account ${harvest.account}`}
          onDone={(message) => {
            setStale(null);
            setNotice(message);
            state.setData((list) => (list ?? []).filter((h) => h.id !== harvest.id));
          }}
          onStale={(message) => {
            setNotice(null);
            setStale(message);
            state.reload();
          }}
        />
      ))}
    </div>
  );
}

/** The harvests (and switch-backs) executed in the year: what automatic harvesting did, too. */
export function HarvestHistory({ year, accountNames }: { year: number; accountNames: Record<number, string> }) {
  const state = useAsync((signal) => tax.harvests("executed", signal), []);
  if (state.loading && !state.data) return null;
  if (state.error) return state.error.status === 404 ? null : <ErrorAlert error={state.error} onRetry={state.reload} />;
  const done = (state.data ?? []).filter((h) => h.market_date.startsWith(`${year}-`));
  if (!done.length) {
    return <p className="small muted" data-testid="harvest-history">No harvests were executed in {year}.</p>;
  }
  return (
    <details className="harvest-history" data-testid="harvest-history">
      <summary>
        {done.length} harvest{done.length === 1 ? "" : "s"} executed in {year}
      </summary>
      <TableScroll label={`Harvests executed in ${year}`}>
        <table className="table compact">
          <caption className="visually-hidden">Harvests executed in {year}</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Account</th>
              <th scope="col">Sold</th>
              <th scope="col">Bought</th>
              <th scope="col" className="num">Gain or loss</th>
              <th scope="col" className="num">Estimated tax saved</th>
            </tr>
          </thead>
          <tbody>
            {done.map((h) => {
              const net = sumDecimal([h.short_term_gain, h.long_term_gain]);
              return (
                <tr key={h.id}>
                  <th scope="row">{formatDate(h.market_date)}</th>
                  <td>{accountNames[h.account] ?? `account ${h.account}`}</td>
                  <td>{h.sell}</td>
                  <td>{h.buy}</td>
                  <td className={`num ${isLoss(net) ? "neg" : ""}`}>{formatGain(net)}</td>
                  <td className="num">{formatMoney(h.tax_saved)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableScroll>
    </details>
  );
}
