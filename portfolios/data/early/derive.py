"""Derive `total_returns.csv` in this folder, the universe's total-return levels before the
shipped history (2004-11-18 to 2008-01-02), from the AssetAllocation package's files (run by
hand, like ../derive.py; not by tests or make).

Usage: python portfolios/data/early/derive.py SOURCE_DIR [OUT_DIR]
SOURCE_DIR holds ETFs_TotalReturnIndices.csv and ETFs_risk_free_daily.csv (e.g.
../shared/data/etf_daily_assetallocation). See README.md here for what and why.

- Ten funds are copied as written (total-return levels, 2 decimals, the same bases as
  ../total_returns.csv, so the two files join): VTI, EFA, EEM, AGG, SHY, IEF, TIP, LQD, VNQ, GLD.
- BIL did not exist before 2007-05-30: before that date its column is a **proxy**, the 3-month
  T-bill (FRED DGS3MO, as the package's `rf_daily` = DGS3MO/100/252 per weekday) compounded
  backwards from BIL's first level: level(d) = BIL(2007-05-30) / prod over the weekday rows
  after d up to 2007-05-30 of (1 + rf_daily), 4 decimals.
- Rows on market holidays (all ten copied funds repeat) are dropped, as ../derive.py drops them.
- The last row, 2008-01-02, is also the first row of ../total_returns.csv: the overlap the
  service checks before joining the two.
"""

from __future__ import annotations

import csv
import sys
from datetime import date, datetime
from pathlib import Path

COPIED = ("VTI", "EFA", "EEM", "AGG", "SHY", "IEF", "TIP", "LQD", "VNQ", "GLD")
PROXIED = "BIL"
FIRST_DAY = date(2004, 11, 18)  # GLD's first close: the first day all ten copied funds trade
LAST_DAY = date(2008, 1, 2)  # the shipped history's first day, kept as the overlap
BIL_FIRST = date(2007, 5, 30)


def _day(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()  # noqa: DTZ007 - a date


def main(source: Path, out: Path) -> None:
    with (source / "ETFs_TotalReturnIndices.csv").open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader)
        columns = {t: header.index(t) for t in (*COPIED, PROXIED)}
        rows = [(_day(cells[0]), {t: cells[i] for t, i in columns.items()}) for cells in reader]
    with (source / "ETFs_risk_free_daily.csv").open(newline="") as f:
        rf = {date.fromisoformat(r["Date"]): float(r["rf_daily"]) for r in csv.DictReader(f)}

    rows = [(d, cells) for d, cells in rows if FIRST_DAY <= d <= LAST_DAY]
    # BIL's proxy, compounded backwards over every weekday row (holidays accrue too).
    bil_first = next(float(c[PROXIED]) for d, c in rows if d == BIL_FIRST)
    proxy: dict[date, float] = {}
    level = bil_first
    for d, _ in reversed([r for r in rows if r[0] <= BIL_FIRST]):
        proxy[d] = level
        level /= 1.0 + rf[d]
    kept: list[tuple[date, list[str]]] = []
    previous: dict[str, str] | None = None
    for d, cells in rows:
        if any(cells[t] == "NA" for t in COPIED):
            raise SystemExit(f"{d}: a copied fund has no level")
        if previous is not None and all(cells[t] == previous[t] for t in COPIED):
            continue  # a market holiday: every fund repeats
        previous = cells
        bil = f"{proxy[d]:.4f}" if d < BIL_FIRST else cells[PROXIED]
        kept.append((d, [cells[t] for t in COPIED] + [bil]))
    target = out / "total_returns.csv"
    with target.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["date", *COPIED, PROXIED])
        for d, values in kept:
            writer.writerow([d.isoformat(), *values])
    print(f"{target}: {len(kept)} rows, {kept[0][0]} to {kept[-1][0]}")  # noqa: T201


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).parent)
