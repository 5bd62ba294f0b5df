"""The one lock order for money (`portfolios.services.ledger`'s Locks): a transaction that moves
money locks its clients, then its accounts, then their rows, through `account_lock` or
`accounts_lock`. Pinned here: an account row locked anywhere else is one of the few that lock
no lot, lot sale or other account's row after it, each named with its reason, so a new service
that locks an account row its own way fails this test until it is checked against the order."""

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# file → (account-row locks taken there outside the helpers, why that is safe)
OWN_LOCKS = {
    "portfolios/services/ledger.py": (1, "the helper itself, `accounts_lock`"),
    "portfolios/services/recurring.py": (
        1,
        "the recurring chunk locks its schedules, then their clients, then the accounts",
    ),
    "portfolios/services/fees.py": (
        1,
        "the stored daily values: the accounts' rows only, to read their entries; no lot",
    ),
    "portfolios/services/fees_owed.py": (
        2,
        "a month recorded owed writes one row of the account's; collecting owed fees runs "
        "under the inflow's locks (cash only, nothing sold)",
    ),
    "portfolios/receivers.py": (
        2,
        "closing a goal or changing its type: the goal's lock, then its account's; no money moves",
    ),
}


def test_account_rows_are_locked_through_the_ledgers_helpers():
    lock = re.compile(r"Account\.objects\.select_for_update\(")
    found = Counter()
    for app in ("config", "advisor", "portfolios", "nlp", "workspace"):
        for path in sorted((ROOT / app).rglob("*.py")):
            hits = len(lock.findall(path.read_text()))
            if hits:
                found[str(path.relative_to(ROOT))] = hits
    assert dict(found) == {path: count for path, (count, _) in OWN_LOCKS.items()}
