// The Tax centre: the year's realised gains by term (wash sales shown), losses harvested and the
// tax they save, harvests waiting for approval, IRA room, and documents to download.
import { useId, useState } from "react";
import { Link } from "react-router";

import { clients, portfolio } from "../api/endpoints";
import { accountNameWithType, isIra, tax } from "../api/tax";
import type { GainFigures, RealizedGains, TaxSummary } from "../api/tax";
import { TaxDocuments } from "../components/TaxDocuments";
import { HarvestHistory, TaxHarvests } from "../components/TaxHarvests";
import { Card, EmptyState, ErrorAlert, Loading, PageHeader, TableScroll } from "../components/ui";
import { compareDecimal, formatDate, formatGain, formatMoney, formatUnits } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { useTitle } from "../lib/useTitle";

/** How many years the picker offers, back from the latest. */
const YEARS_SHOWN = 6;

const isZero = (value: string) => compareDecimal(value.trim().replace(/^-/, ""), "0") === 0;

function signedClass(value: string): string {
  if (isZero(value)) return "";
  return value.trim().startsWith("-") ? "neg" : "pos";
}

function GainsTable({ summary }: { summary: TaxSummary }) {
  const rows: [string, GainFigures][] = [
    ["Short-term", summary.realized.short_term],
    ["Long-term", summary.realized.long_term],
  ];
  const total = summary.realized.total;
  const cells = (g: GainFigures) => (
    <>
      <td className="num">{formatMoney(g.proceeds)}</td>
      <td className="num">{formatMoney(g.cost_basis)}</td>
      <td className={`num ${signedClass(g.gain)}`}>{formatGain(g.gain)}</td>
      <td className="num">{formatMoney(g.wash_disallowed)}</td>
      <td className={`num ${signedClass(g.reportable)}`}>{formatGain(g.reportable)}</td>
    </>
  );
  return (
    <TableScroll label={`Realised gains and losses in ${summary.year}`}>
      <table className="table tax-table" data-testid="realised-gains">
        <caption className="visually-hidden">Realised gains and losses in {summary.year}, by term</caption>
        <thead>
          <tr>
            <th scope="col">Term</th>
            <th scope="col" className="num">Proceeds</th>
            <th scope="col" className="num">Cost basis</th>
            <th scope="col" className="num">Gain or loss</th>
            <th scope="col" className="num">Wash sale disallowed</th>
            <th scope="col" className="num">Reportable</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([name, g]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              {cells(g)}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            {cells(total)}
          </tr>
        </tfoot>
      </table>
    </TableScroll>
  );
}

function SalesList({ gains }: { gains: RealizedGains }) {
  if (!gains.sales.length) return null;
  return (
    <details>
      <summary>
        {gains.sales.length} sale{gains.sales.length === 1 ? "" : "s"} in {gains.year}
      </summary>
      <TableScroll label={`Each lot sold in ${gains.year}`}>
        <table className="table compact">
          <caption className="visually-hidden">Each lot sold in {gains.year}</caption>
          <thead>
            <tr>
              <th scope="col">Fund</th>
              <th scope="col">Bought</th>
              <th scope="col">Sold</th>
              <th scope="col" className="num">Units</th>
              <th scope="col" className="num">Proceeds</th>
              <th scope="col" className="num">Cost basis</th>
              <th scope="col" className="num">Gain or loss</th>
              <th scope="col" className="num">Wash sale disallowed</th>
              <th scope="col">Term</th>
            </tr>
          </thead>
          <tbody>
            {gains.sales.map((sale) => (
              <tr key={sale.id}>
                <th scope="row">{sale.ticker}</th>
                <td>{formatDate(sale.acquired_on)}</td>
                <td>{formatDate(sale.sold_on)}</td>
                <td className="num">{formatUnits(sale.quantity)}</td>
                <td className="num">{formatMoney(sale.proceeds)}</td>
                <td className="num">{formatMoney(sale.cost_basis)}</td>
                <td className={`num ${signedClass(sale.gain)}`}>{formatGain(sale.gain)}</td>
                <td className="num">{formatMoney(sale.wash_disallowed)}</td>
                <td>{sale.term === "long" ? "Long-term" : "Short-term"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </details>
  );
}

function SummaryFigures({ summary }: { summary: TaxSummary }) {
  return (
    <div className="figures tax-figures" data-testid="tax-figures">
      <div className="figure">
        <p className="figure-label">Losses harvested</p>
        <p className="figure-value" data-testid="harvested-losses">
          {formatMoney(summary.harvested_losses.trim().replace(/^-/, ""))}
        </p>
        <p className="figure-hint">Sold at a loss and replaced, to offset gains</p>
      </div>
      <div className="figure">
        <p className="figure-label">Estimated tax saved</p>
        <p className="figure-value pos" data-testid="tax-saved">
          {formatMoney(summary.estimated_tax_saved)}
        </p>
        <p className="figure-hint">At your tax rates; deferred, not forgiven</p>
      </div>
      <div className="figure">
        <p className="figure-label">Dividends</p>
        <p className="figure-value">{formatMoney(summary.dividends)}</p>
        <p className="figure-hint">Paid into taxable accounts</p>
      </div>
      <div className="figure">
        <p className="figure-label">Advisory fees</p>
        <p className="figure-value">{formatMoney(summary.fees)}</p>
        <p className="figure-hint">Paid in {summary.year}</p>
      </div>
    </div>
  );
}

function nothingRealised(summary: TaxSummary): boolean {
  const t = summary.realized.total;
  return isZero(t.proceeds) && isZero(t.gain) && isZero(t.wash_disallowed);
}

export default function TaxPage() {
  useTitle("Taxes");
  const yearId = useId();
  // null: the server's default, the year of the last market close ("this year" in the app).
  const [year, setYear] = useState<number | null>(null);
  const summary = useAsync((signal) => tax.summary(year, signal), [year]);
  const gains = useAsync((signal) => tax.realizedGains(year, signal), [year]);
  const accounts = useAsync((signal) => portfolio.accounts(signal), []);
  // Only for the wording about automatic harvesting; without it, the page says what approval means.
  const profile = useAsync((signal) => clients.me(signal), []);
  const [latest, setLatest] = useState<number | null>(null);

  const fallbackYear = new Date().getFullYear();
  if (summary.data && latest === null) setLatest(summary.data.year);
  const shownYear = year ?? summary.data?.year ?? fallbackYear;
  const newest = latest ?? fallbackYear;
  const years = Array.from({ length: YEARS_SHOWN }, (_, i) => newest - i);
  const accountNames = Object.fromEntries((accounts.data ?? []).map((a) => [a.id, a.goal_name]));
  const iras = (accounts.data ?? []).filter((a) => isIra(a.account_type));
  const data = summary.data && summary.data.year === shownYear ? summary.data : undefined;
  const notReady = summary.error?.status === 404;

  if (year === null && summary.loading && !summary.data) {
    // The year is the server's until it answers: no picker showing a year it then changes.
    return (
      <>
        <PageHeader title="Taxes" />
        <Loading label="Loading your tax summary…" />
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Taxes"
        subtitle="What you've realised this year, the losses we've harvested for you, and your tax documents."
        action={
          <div className="field inline year-picker">
            <label htmlFor={yearId}>Tax year</label>
            <select id={yearId} value={shownYear} onChange={(e) => setYear(Number(e.target.value))}>
              {years.map((y) => (
                <option key={y} value={y}>
                  {y}
                </option>
              ))}
            </select>
          </div>
        }
      />

      <div className="stack">
        <Card title={`Realised gains and losses in ${shownYear}`}>
          {summary.loading && !data ? <Loading label="Loading your tax summary…" /> : null}
          {summary.error && !notReady ? <ErrorAlert error={summary.error} onRetry={summary.reload} /> : null}
          {notReady ? (
            <EmptyState title={`No tax figures for ${shownYear} yet`}>
              <p>Gains, losses and harvests show here once your accounts have sold anything.</p>
            </EmptyState>
          ) : null}
          {data ? (
            <>
              {nothingRealised(data) ? (
                <EmptyState title={`No gains or losses realised in ${data.year}`}>
                  <p>
                    Nothing has been sold in your taxable accounts this year, so there is nothing to report. Gains
                    only count for tax when a fund is sold.
                  </p>
                </EmptyState>
              ) : (
                <>
                  <GainsTable summary={data} />
                  <p className="small muted">Short-term: held a year or less when sold. Long-term: held over a year.</p>
                  <p className="small muted" data-testid="wash-sales">
                    {data.wash_sales.count === 0
                      ? "No wash sales: every loss counts."
                      : `${data.wash_sales.count} wash sale${data.wash_sales.count === 1 ? "" : "s"}: ${formatMoney(
                          data.wash_sales.disallowed,
                        )} of losses disallowed for now (added to the cost of the replacement, so not lost).`}
                  </p>
                  {gains.data && gains.data.year === data.year ? <SalesList gains={gains.data} /> : null}
                </>
              )}
              <SummaryFigures summary={data} />
            </>
          ) : null}
        </Card>

        <Card title="Tax-loss harvesting">
          <p className="small muted">
            We watch your taxable accounts every market day. When a fund falls well below what you paid, we propose
            selling it and buying a similar fund, so the loss lowers your tax while you stay invested.{" "}
            {profile.data?.harvest_auto ? (
              <>
                <Link to="/settings#tax-harvesting">Automatic tax-loss harvesting</Link> is on: harvests execute as
                proposed.
              </>
            ) : (
              <>
                Each waits for your approval here, unless you turn on{" "}
                <Link to="/settings#tax-harvesting">automatic tax-loss harvesting</Link>.
              </>
            )}
          </p>
          <TaxHarvests accountNames={accountNames} />
          <HarvestHistory year={shownYear} accountNames={accountNames} />
        </Card>

        {data?.ira ? (
          <Card title={`IRA contributions for ${data.ira.year}`}>
            <dl className="facts" data-testid="ira-room">
              <div>
                <dt>Contributed</dt>
                <dd>{formatMoney(data.ira.contributed)}</dd>
              </div>
              <div>
                <dt>Limit</dt>
                <dd>{formatMoney(data.ira.limit)}</dd>
              </div>
              <div>
                <dt>Room left</dt>
                <dd>{formatMoney(data.ira.room)}</dd>
              </div>
            </dl>
            <p className="small muted">
              One limit covers all your IRAs, traditional and Roth together. Deposits past it are refused.
            </p>
            {iras.length ? (
              <p className="small">
                Your IRA{iras.length === 1 ? "" : "s"}:{" "}
                {iras.map((a, i) => (
                  <span key={a.id}>
                    {i ? ", " : null}
                    <Link to={`/money?account=${a.id}`}>{accountNameWithType(a.goal_name, a.account_type)}</Link>
                  </span>
                ))}
              </p>
            ) : null}
          </Card>
        ) : null}

        <Card title="Documents">
          <TaxDocuments year={shownYear} latest={newest} years={years} accounts={accounts.data ?? []} />
        </Card>
      </div>
    </>
  );
}
