"""Derive the shipped market data from the AssetAllocation package's files (run by hand).

Usage: python portfolios/data/derive.py SOURCE_DIR [OUT_DIR]
SOURCE_DIR holds ETFs_Prices.csv and ETFs_TotalReturnIndices.csv (e.g.
../shared/data/etf_daily_assetallocation); OUT_DIR defaults to this folder. Writes prices.csv
(actual closes), total_returns.csv (total-return index levels) and distributions.csv, and prints
the analysis the distribution rule rests on. Not run by tests or make: the outputs are committed,
and README.md records their sha256.

Why a rule and not the cash paid: the source has no distributions, only closes P and total-return
levels TR, so each day's implied cash per unit is D_t = P_{t-1} * TR_t / TR_{t-1} - P_t. Both are
rounded to 2 decimals, which alone moves D_t / P_{t-1} by up to
e_t = 0.005 * (1/TR_t + 1/TR_{t-1} + 1/P_t + 1/P_{t-1}); a day is an ex-date when
D_t / P_{t-1} > K * e_t (K = 3; the noise never exceeds 1 e_t either way, see the printout).

BIL is the exception: its TR accrues the T-bill income day by day instead of jumping on the
ex-date (the month's income shows as a small positive D every day, and no day stands out), so its
distribution is the month's implied income summed, going ex on the next month's first trading day
(BIL's real ex-date convention), kept when the sum passes the same test against one day's noise.

Pay dates are not in the source: each is the ex-date + 4 trading days of the file's calendar
(weekdays past its end), about when iShares and Vanguard pay.
"""

from __future__ import annotations

import csv
import statistics
import sys
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

TICKERS = (
    # The universe, then the tax-loss-harvesting alternates (targets.ALTERNATES).
    *("VTI", "EFA", "EEM", "AGG", "SHY", "IEF", "TIP", "LQD", "VNQ", "GLD", "BIL"),
    *("SPY", "VEU", "BND", "IYR"),
)
FIRST_DAY = date(2008, 1, 2)  # the first date every fund of the universe has data
K = 3  # an ex-date's implied cash is above K times the rounding noise
ROUNDING = 0.005  # both files are rounded to 2 decimals
ACCRUING = ("BIL",)  # TR accrues income daily: monthly sums, see the docstring
PAY_LAG = 4  # trading days from ex-date to pay date
PER_UNIT = Decimal("0.0001")

Row = tuple[date, dict[str, str]]


def read(path: Path) -> list[Row]:
    """A source file's rows from FIRST_DAY on: date → {ticker: cell as written}."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        columns = {t: header.index(t) for t in TICKERS}
        rows = []
        for cells in reader:
            day = datetime.strptime(cells[0], "%m/%d/%Y").date()  # noqa: DTZ007 - a date
            if day >= FIRST_DAY:
                rows.append((day, {t: cells[i] for t, i in columns.items()}))
    return rows


def trading_days(prices: list[Row], levels: list[Row]) -> list[tuple[date, dict, dict]]:
    """Both files side by side, without the market-holiday rows (every fund repeats)."""
    if [d for d, _ in prices] != [d for d, _ in levels]:
        raise SystemExit("the two source files do not have the same dates")
    kept: list[tuple[date, dict, dict]] = []
    for (day, closes), (_, trs) in zip(prices, levels, strict=True):
        if any("NA" in (closes[t], trs[t]) for t in TICKERS):
            raise SystemExit(f"{day}: a fund has no value")
        if kept and all(closes[t] == kept[-1][1][t] and trs[t] == kept[-1][2][t] for t in TICKERS):
            continue
        kept.append((day, closes, trs))
    return kept


def implied(days: list[tuple[date, dict, dict]], ticker: str) -> list[tuple[date, float, float]]:
    """(day, D_t, D_t / P_{t-1} in units of the rounding noise e_t) for every day but the first."""
    out = []
    for (_, p0, r0), (day, p1, r1) in zip(days, days[1:], strict=False):
        P0, P1, R0, R1 = (float(x[ticker]) for x in (p0, p1, r0, r1))
        d = P0 * R1 / R0 - P1
        noise = ROUNDING * (1 / R1 + 1 / R0 + 1 / P1 + 1 / P0)
        out.append((day, d, d / P0 / noise))
    return out


def ex_dates(days: list[tuple[date, dict, dict]], ticker: str) -> list[tuple[date, Decimal]]:
    series = implied(days, ticker)
    if ticker not in ACCRUING:
        return [
            (day, Decimal(repr(d)).quantize(PER_UNIT))
            for day, d, ratio in series
            if d > 0 and ratio > K
        ]
    calendar = [d for d, _, _ in days]
    months: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for day, d, ratio in series:
        months[(day.year, day.month)].append((d, d / ratio if ratio else 0.0))
    found = []
    for (year, month), values in sorted(months.items()):
        total = sum(d for d, _ in values)
        one_day_noise = max(n for _, n in values)
        first_next = date(year + month // 12, month % 12 + 1, 1)
        ex = next((d for d in calendar if d >= first_next), None)
        if ex is not None and total > K * one_day_noise and total > 0:
            found.append((ex, Decimal(repr(total)).quantize(PER_UNIT)))
    return found


def pay_date(ex: date, calendar: list[date]) -> date:
    later = [d for d in calendar if d > ex][:PAY_LAG]
    day = later[-1] if later else ex
    for _ in range(PAY_LAG - len(later)):  # past the file's end: weekdays
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day


def write_wide(path: Path, days: list[tuple[date, dict, dict]], which: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["date", *TICKERS])
        for day, *values in days:
            cells: dict[str, str] = values[which - 1]
            writer.writerow([day.isoformat(), *(str(Decimal(cells[t])) for t in TICKERS)])


def report(days, found: dict[str, list[tuple[date, Decimal]]]) -> None:
    """The noise, the counts per year and the yield check, to judge the rule by."""
    print(f"{len(days)} trading days, {days[0][0]} .. {days[-1][0]}")  # noqa: T201
    print("implied D_t / P_{t-1} in units of rounding noise e_t:")  # noqa: T201
    for ticker in TICKERS:
        ratios = sorted(r for _, _, r in implied(days, ticker))
        n = len(ratios)
        print(  # noqa: T201
            f"  {ticker}: p1 {ratios[n // 100]:6.2f}  median {ratios[n // 2]:5.2f}  "
            f"p99 {ratios[99 * n // 100]:6.2f}  max {ratios[-1]:6.1f}  "
            f"days > {K}: {sum(r > K for r in ratios)}  < -{K}: {sum(r < -K for r in ratios)}"
        )
    years = sorted({d.year for d, _, _ in days})
    print("distributions per year:", " ".join(f"{y % 100:02d}" for y in years))  # noqa: T201
    for ticker in TICKERS:
        counts = [sum(1 for d, _ in found[ticker] if d.year == y) for y in years]
        print(f"  {ticker}: " + " ".join(f"{c:2d}" for c in counts))  # noqa: T201
    print("yield: distributions / average close, and TR CAGR - price CAGR (whole period)")  # noqa: T201
    span = (days[-1][0] - days[0][0]).days / 365.25
    for ticker in TICKERS:
        closes = {d: float(p[ticker]) for d, p, _ in days}
        yearly = []
        for y in years[1:-1]:  # whole years only
            paid = sum(float(a) for d, a in found[ticker] if d.year == y)
            yearly.append(paid / statistics.mean(v for d, v in closes.items() if d.year == y))
        first, last = days[0], days[-1]
        tr_cagr = (float(last[2][ticker]) / float(first[2][ticker])) ** (1 / span) - 1
        pr_cagr = (float(last[1][ticker]) / float(first[1][ticker])) ** (1 / span) - 1
        print(  # noqa: T201
            f"  {ticker}: mean {statistics.mean(yearly):6.2%}  2019 {yearly[11 - 1]:6.2%}  "
            f"2022 {yearly[14 - 1]:6.2%}  TR-price {tr_cagr - pr_cagr:6.2%}"
        )


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit(__doc__)
    source = Path(argv[1])
    out = Path(argv[2]) if len(argv) > 2 else Path(__file__).resolve().parent
    days = trading_days(
        read(source / "ETFs_Prices.csv"), read(source / "ETFs_TotalReturnIndices.csv")
    )
    calendar = [d for d, _, _ in days]
    found = {t: ex_dates(days, t) for t in TICKERS}
    write_wide(out / "prices.csv", days, 1)
    write_wide(out / "total_returns.csv", days, 2)
    with (out / "distributions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["ticker", "ex_date", "pay_date", "amount"])
        for ticker in TICKERS:
            for ex, amount in found[ticker]:
                writer.writerow([ticker, ex.isoformat(), pay_date(ex, calendar), amount])
    report(days, found)


if __name__ == "__main__":
    main(sys.argv)
