import { portfolio } from "../api/endpoints";
import type { AccountSummary, RebalanceProposal } from "../api/types";
import { formatDate, formatDateTime, formatMoney, formatPercent } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { Card, EmptyState, ErrorAlert, Loading } from "./ui";

/**
 * Pending rebalance proposals. "Drift now" is the account's live drift from the same summary the
 * Allocation card shows, so one account has one drift on the screen; the proposal's own figure is
 * labelled as of the day it was proposed (its reason quotes it).
 */
export default function RebalanceCard({ accounts }: { accounts: AccountSummary[] }) {
  const state = useAsync(
    async (signal) => {
      const lists = await Promise.all(accounts.map((a) => portfolio.rebalances(a.id, signal)));
      return lists.flat().filter((p) => p.status === "pending");
    },
    [accounts.map((a) => a.id).join(",")],
  );
  const accountOf = (p: RebalanceProposal) => accounts.find((a) => a.id === p.account);

  return (
    <Card title="Pending rebalance">
      {state.loading ? <Loading /> : null}
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {state.data && state.data.length === 0 ? (
        <EmptyState title="Nothing pending">
          <p>Your portfolios are close enough to target. We check every market day.</p>
        </EmptyState>
      ) : null}
      {state.data?.map((p) => {
        const account = accountOf(p);
        const driftNow = account ? account.drift : p.current_drift;
        return (
          <div key={p.id} className="rebalance">
            <p className="rebalance-head">
              <strong>{account?.goal_name ?? `Account ${p.account}`}</strong>
              <span className="badge badge-warn">Awaiting advisor approval</span>
            </p>
            <dl className="facts">
              <div>
                <dt>Drift now</dt>
                <dd>{formatPercent(driftNow)}</dd>
              </div>
              <div>
                <dt>When proposed ({formatDate(p.market_date)})</dt>
                <dd>{formatPercent(p.drift)}</dd>
              </div>
            </dl>
            <p className="small">
              <span className="muted">When proposed: </span>
              {p.reason}
            </p>
            <details>
              <summary>
                {p.trades.length} proposed trade{p.trades.length === 1 ? "" : "s"}
              </summary>
              <table className="table compact">
                <caption className="visually-hidden">Proposed trades</caption>
                <thead>
                  <tr>
                    <th scope="col">Fund</th>
                    <th scope="col">Action</th>
                    <th scope="col" className="num">Amount</th>
                  </tr>
                </thead>
                <tbody>
                  {p.trades.map((t) => (
                    <tr key={`${t.ticker}-${t.side}`}>
                      <th scope="row">{t.ticker}</th>
                      <td>{t.side === "buy" ? "Buy" : "Sell"}</td>
                      <td className="num">{formatMoney(t.value)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
            <p className="small muted">
              Proposed {formatDateTime(p.created_at)}. Once your advisor approves, exactly these trades execute;
              if your account changes first, a fresh proposal replaces this one.
            </p>
          </div>
        );
      })}
    </Card>
  );
}
