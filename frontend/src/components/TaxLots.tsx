// A taxable account's tax lots (what was bought when, at what cost, the gain so far and its
// term) and the lot method that decides which lots a sale uses. Collapsed until asked for.
import { useId, useState } from "react";

import { ApiError } from "../api/client";
import { goals } from "../api/endpoints";
import { LOT_METHODS, lotMethodLabel, tax } from "../api/tax";
import type { LotMethod, TaxLot } from "../api/tax";
import type { Goal } from "../api/types";
import { compareDecimal, formatDate, formatGain, formatMoney, formatUnits, sumDecimal } from "../lib/format";
import { asApiError, useAsync } from "../lib/useAsync";
import { Card, EmptyState, ErrorAlert, Loading, StatusMessage, TableScroll } from "./ui";

function gainClass(value: string): string {
  if (compareDecimal(value.replace(/^-/, ""), "0") === 0) return "";
  return value.startsWith("-") ? "neg" : "pos";
}

export function LotsTable({ lots, caption }: { lots: TaxLot[]; caption: string }) {
  const total = (field: "cost_basis" | "value" | "unrealised_gain") => sumDecimal(lots.map((l) => l[field]));
  return (
    <TableScroll label={caption}>
      <table className="table compact" data-testid="tax-lots">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Fund</th>
            <th scope="col">Bought</th>
            <th scope="col" className="num">Units</th>
            <th scope="col" className="num">Cost basis</th>
            <th scope="col" className="num">Value</th>
            <th scope="col" className="num">Unrealised gain</th>
            <th scope="col">Term</th>
          </tr>
        </thead>
        <tbody>
          {lots.map((lot) => (
            <tr key={lot.id}>
              <th scope="row">{lot.ticker}</th>
              <td>
                {formatDate(lot.acquired_on)}
                {lot.holding_from && lot.holding_from !== lot.acquired_on ? (
                  <span className="small muted"> (held from {formatDate(lot.holding_from)})</span>
                ) : null}
              </td>
              <td className="num">{formatUnits(lot.remaining)}</td>
              <td className="num">
                {formatMoney(lot.cost_basis)}
                {compareDecimal(lot.basis_adjustment.replace(/^-/, ""), "0") !== 0 ? (
                  <span className="small muted">
                    {" "}
                    (incl. {formatMoney(lot.basis_adjustment)} wash sale)
                  </span>
                ) : null}
              </td>
              <td className="num">{formatMoney(lot.value)}</td>
              <td className={`num ${gainClass(lot.unrealised_gain)}`}>
                {formatGain(lot.unrealised_gain)}
              </td>
              <td>{lot.term === "long" ? "Long-term" : "Short-term"}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={3}>
              Total
            </th>
            <td className="num">{formatMoney(total("cost_basis"))}</td>
            <td className="num">{formatMoney(total("value"))}</td>
            <td className={`num ${gainClass(total("unrealised_gain"))}`}>
              {formatGain(total("unrealised_gain"))}
            </td>
            <td />
          </tr>
        </tfoot>
      </table>
    </TableScroll>
  );
}

function LotsBody({ goal }: { goal: Goal }) {
  const selectId = useId();
  const state = useAsync(
    async (signal) => {
      const { account_id: accountId } = await goals.funding(goal.id, signal);
      const [account, lots] = await Promise.all([
        tax.account(accountId, signal),
        tax.lots(accountId, signal).catch((err: unknown) => {
          // No lots endpoint yet, or nothing bought: an empty list, said plainly below.
          if (err instanceof ApiError && err.status === 404) return [] as TaxLot[];
          throw err;
        }),
      ]);
      return { accountId, account, lots };
    },
    [goal.id],
  );
  const [method, setMethod] = useState<LotMethod | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  if (state.loading && !state.data) return <Loading label="Loading tax lots…" />;
  if (state.error) return <ErrorAlert error={state.error} onRetry={state.reload} />;
  if (!state.data) return null;
  const { accountId, account, lots } = state.data;
  const current: LotMethod = account.lot_method;
  const chosen = method ?? current;

  async function save() {
    setSaving(true);
    setError(null);
    setSaved(null);
    try {
      const updated = await tax.setLotMethod(accountId, chosen);
      state.setData((d) => ({ ...d!, account: updated }));
      setMethod(null);
      setSaved(`Future sales in this account use ${lotMethodLabel(updated.lot_method).toLowerCase()}.`);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setSaving(false);
    }
  }

  const hint = LOT_METHODS.find(([v]) => v === chosen)?.[2];
  return (
    <>
      <div className="lot-method">
        <div className="field">
          <label htmlFor={selectId}>Which lots a sale uses</label>
          <select
            id={selectId}
            value={chosen}
            aria-describedby={`${selectId}-hint`}
            onChange={(e) => {
              setSaved(null);
              setMethod(e.target.value as LotMethod);
            }}
          >
            {LOT_METHODS.map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="btn btn-secondary" onClick={() => void save()} disabled={saving || chosen === current}>
          {saving ? "Saving…" : "Change lot method"}
        </button>
      </div>
      <p id={`${selectId}-hint`} className="field-hint">
        {hint} Now: {lotMethodLabel(current)}.
      </p>
      <ErrorAlert error={error} />
      {saved ? <StatusMessage>{saved}</StatusMessage> : null}
      {lots.length === 0 ? (
        <EmptyState title="No tax lots yet">
          <p>Each purchase becomes a lot once it is invested at a market close.</p>
        </EmptyState>
      ) : (
        <LotsTable lots={lots} caption={`Tax lots in ${goal.name}`} />
      )}
    </>
  );
}

/** The goal page's "Tax lots" section, for a taxable account. */
export function TaxLots({ goal }: { goal: Goal }) {
  const [open, setOpen] = useState(false);
  const bodyId = useId();
  return (
    <Card
      title="Tax lots"
      className="tax-lots"
      action={
        <button
          type="button"
          className="btn btn-ghost btn-small"
          aria-expanded={open}
          aria-controls={bodyId}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? "Hide lots" : "Show lots"}
        </button>
      }
    >
      <div id={bodyId} hidden={!open}>
        {open ? <LotsBody goal={goal} /> : null}
      </div>
      {!open ? (
        <p className="small muted">What you bought when, at what cost, and the gain or loss on each lot so far.</p>
      ) : null}
    </Card>
  );
}
