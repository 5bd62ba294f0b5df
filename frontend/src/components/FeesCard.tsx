import { portfolio } from "../api/endpoints";
import type { AccountFees, FeesSummary } from "../api/types";
import { formatMoney, formatMonth, formatRate, sumDecimal } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { Card, ErrorAlert, Loading } from "./ui";

/**
 * Last month's fee across accounts: the fees of the latest month any account was billed for,
 * added as decimal strings. Null when nothing has been billed yet.
 */
export function lastMonthFee(accounts: AccountFees[]): { month: string; amount: string } | null {
  const months = accounts.map((a) => a.last_fee_month).filter((m): m is string => Boolean(m));
  if (months.length === 0) return null;
  const month = months.reduce((latest, m) => (m > latest ? m : latest));
  const amounts = accounts
    .filter((a) => a.last_fee_month === month && a.last_fee_amount !== null)
    .map((a) => a.last_fee_amount as string);
  return { month, amount: sumDecimal(amounts) };
}

function Figure({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div className="figure">
      <p className="figure-label">{label}</p>
      <p className="figure-value">{value}</p>
      {hint ? <p className="figure-hint">{hint}</p> : null}
    </div>
  );
}

/** The figures of GET fees/ for all accounts together. */
export function FeesFigures({ fees }: { fees: FeesSummary }) {
  const last = lastMonthFee(fees.accounts);
  return (
    <>
      <div className="figures">
        <Figure label="Advisory fee" value={`${formatRate(fees.schedule.annual_rate)} a year`} hint="Of your accounts' value, billed monthly" />
        <Figure
          label={last ? `Last month's fee (${formatMonth(last.month)})` : "Last month's fee"}
          value={last ? formatMoney(last.amount) : "—"}
          hint={last ? "All accounts" : "Nothing billed yet"}
        />
        <Figure
          label="Building up this month"
          value={formatMoney(fees.accrued_this_month)}
          hint="Accrued daily on each day's value; billed after the month ends"
        />
        {Number(fees.owed) > 0 ? (
          <Figure label="Owed" value={formatMoney(fees.owed)} hint="Fees your accounts could not pay; taken from your next deposit" />
        ) : null}
        <Figure label={`Paid in ${fees.year}`} value={formatMoney(fees.paid_ytd)} hint="Advisory fees this year" />
        <Figure label="Paid since you started" value={formatMoney(fees.paid_since_inception)} hint="Advisory fees since inception" />
        <Figure
          label="Estimated annual fee"
          value={formatMoney(fees.estimated_annual_fee)}
          hint={`At today's value of ${formatMoney(fees.value)}`}
        />
        <Figure
          label="Fund expense ratio"
          value={formatRate(fees.fund_expense_ratio)}
          hint={`Weighted by value: about ${formatMoney(fees.estimated_annual_fund_expenses)} a year, paid inside the funds`}
        />
      </div>
      <p className="small muted">{fees.schedule.billing}</p>
      <p className="small muted">{fees.schedule.fund_expenses}</p>
    </>
  );
}

/** Dashboard card: the advisory fee schedule and what it has cost, from GET fees/. */
export default function FeesCard() {
  const state = useAsync((signal) => portfolio.fees(signal), []);
  return (
    <Card title="Fees" className="span-full">
      {state.loading ? <Loading label="Loading fees…" /> : null}
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {state.data ? <FeesFigures fees={state.data} /> : null}
    </Card>
  );
}

/** Money page: one small table per account, the same figures as the dashboard card. */
export function AccountFeesTables({ fees }: { fees: FeesSummary }) {
  return (
    <div className="fee-tables">
      {fees.accounts.map((a) => (
        <div key={a.account_id} className="fee-table">
          <h3>{a.goal_name}</h3>
          <table className="table compact">
            <caption className="visually-hidden">Fees for {a.goal_name}</caption>
            <tbody>
              <tr>
                <th scope="row">
                  Last fee{a.last_fee_month ? ` (${formatMonth(a.last_fee_month)})` : ""}
                </th>
                <td className="num">{a.last_fee_amount === null ? "None yet" : formatMoney(a.last_fee_amount)}</td>
              </tr>
              <tr>
                <th scope="row">Building up this month</th>
                <td className="num">{formatMoney(a.accrued_this_month)}</td>
              </tr>
              {Number(a.owed) > 0 ? (
                <tr>
                  <th scope="row">Owed (taken from your next deposit)</th>
                  <td className="num">{formatMoney(a.owed)}</td>
                </tr>
              ) : null}
              <tr>
                <th scope="row">Paid in {fees.year}</th>
                <td className="num">{formatMoney(a.paid_ytd)}</td>
              </tr>
              <tr>
                <th scope="row">Paid since you started</th>
                <td className="num">{formatMoney(a.paid_since_inception)}</td>
              </tr>
              <tr>
                <th scope="row">Estimated annual fee</th>
                <td className="num">{formatMoney(a.estimated_annual_fee)}</td>
              </tr>
              <tr>
                <th scope="row">Fund expense ratio</th>
                <td className="num">{formatRate(a.fund_expense_ratio)}</td>
              </tr>
            </tbody>
          </table>
        </div>
      ))}
    </div>
  );
}

/** Money page card: the schedule in a sentence, then each account's fees. */
export function AccountFeesCard() {
  const state = useAsync((signal) => portfolio.fees(signal), []);
  const fees = state.data;
  return (
    <Card title="Fees" className="span-full">
      {state.loading ? <Loading label="Loading fees…" /> : null}
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {fees ? (
        <>
          <p>
            Advisory fee: <strong>{formatRate(fees.schedule.annual_rate)} a year</strong>. {fees.schedule.billing}
          </p>
          <AccountFeesTables fees={fees} />
          <p className="small muted">{fees.schedule.fund_expenses}</p>
        </>
      ) : null}
    </Card>
  );
}
