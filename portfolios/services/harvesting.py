"""Tax-loss harvesting in taxable accounts: sell a fund's lots at a loss and buy its alternate (a
fund of the same asset class tracking a different index, `targets.ALTERNATES`), so the loss is
realised for taxes while the exposure stays; switch back to the primary fund once the wash-sale
window has passed.

The rule (one pure function, `harvest_select`, shared with the backtest in `tlh_backtest.py`):
- A fund with a pair (a primary or an alternate), held in a taxable account, is harvested at a
  day's close when its lots at a loss lose together at least `TLH_MIN_LOSS` ($100) and at least
  `TLH_MIN_LOSS_FRACTION` (5%) of their basis.
- What is sold: the lots at a loss, and with them any lot of the fund bought in the 30 days up to
  the sale, even at a gain: kept, such a lot would be the replacement that washes the loss
  (IRS Pub. 550). The thresholds are checked on the net of what is sold. Older lots at a gain
  stay: selling them would realise gains for nothing. The whole proceeds buy the alternate.
- Refused (nothing proposed) when a fund identical to the one sold (`portfolios.tax.
  identical_tickers`) was bought in the last 30 days in ANOTHER of the client's accounts (IRAs
  included) and is still held, since that purchase would wash the loss; or when the alternate
  itself was sold at a loss in the client's taxable accounts in the last 30 days
  (`portfolios.tax.wash_blocked`), since buying it would wash that loss.
- Switch back (`switch_back_select`): an account holding an alternate whose primary's last loss
  sale in the client's taxable accounts was 31 or more days ago sells all the alternate's lots and
  buys the primary, the model portfolio's fund, unless that sale would realise a net short-term
  gain above `TLH_SWITCH_BACK_MAX_GAIN` ($50). Then it waits: for the gain to shrink, or for
  the lots to turn long-term (a year after purchase), when only the lower long-term rate applies.

Like a rebalance, a proposal (`TaxHarvest`) stores the exact trades and the state they were
computed from (`state`, hashed in `fingerprint`); approval executes exactly those trades while
that state holds, in one transaction, else it executes nothing, supersedes the proposal, proposes
afresh and raises `TaxHarvestStale` (409). A client who opted in (`Client.harvest_auto`) has
proposals executed as they are made. Tax figures are estimates at the client's federal marginal
rates (`advisor.tax.marginal_rates`)."""

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from advisor.models import Client, Goal, Notification, User
from advisor.selectors import clients_in_reach
from advisor.services.notifications import notify, notify_many
from advisor.tax import TaxRates, marginal_rates
from config.errors import NotFound
from config.postgres import rows_update

from .. import targets
from ..broker import Broker, PaperBroker, units_for_amount
from ..exceptions import TaxHarvestStale
from ..market import closes_on, market_date_get
from ..models import Account, Asset, Lot, Position, TaxHarvest, Transaction
from ..money import money, money_down, money_text
from ..tax import (
    WASH_WINDOW_DAYS,
    first_anniversary,
    identical_tickers,
    last_loss_sales,
    lot_basis,
    open_loss_funds,
    recent_purchases,
)
from .ledger import account_lock, accounts_lock, ledger_fill, proceeds_split

logger = logging.getLogger(__name__)

SHORT, LONG = "short", "long"
Kind = TaxHarvest.Kind
Status = TaxHarvest.Status


# --- The rule (pure: plain data in, frozen dataclasses out; the backtest uses it too) ----------


@dataclass(frozen=True)
class LotView:
    """An open lot as the rule sees it: its remaining units and their basis (wash-sale
    adjustments included), and the date its holding period counts from."""

    id: int
    acquired_on: date
    holding_from: date
    units: Decimal
    basis: Decimal


@dataclass(frozen=True)
class LotSold:
    lot: LotView
    proceeds: Decimal
    gain: Decimal
    term: str  # "short" or "long"

    def as_json(self) -> dict[str, str | int]:
        return {
            "lot": self.lot.id,
            "acquired_on": self.lot.acquired_on.isoformat(),
            "units": str(self.lot.units),
            "unit_cost": str((self.lot.basis / self.lot.units).quantize(Decimal("0.0001"))),
            "cost_basis": str(self.lot.basis),
            "proceeds": str(self.proceeds),
            "gain": str(self.gain),
            "term": self.term,
        }


@dataclass(frozen=True)
class Sale:
    """Selling some lots at a close, priced as PaperBroker fills it: the proceeds are
    units × price rounded down once, split over the lots pro rata to units."""

    lots: tuple[LotSold, ...]
    units: Decimal
    price: Decimal
    proceeds: Decimal
    basis: Decimal
    short_gain: Decimal
    long_gain: Decimal

    @property
    def gain(self) -> Decimal:
        return self.short_gain + self.long_gain


def term_on(holding_from: date, sold_on: date) -> str:
    """Long-term when sold after the first anniversary of the holding start (held more than one
    year), as the ledger records it (`portfolios.tax.lot_term`)."""
    return LONG if sold_on > first_anniversary(holding_from) else SHORT


def sale_of(lots: Sequence[LotView], *, price: Decimal, day: date) -> Sale:
    """The sale of `lots` (all their units) at `price` on `day`."""
    units = sum((lot.units for lot in lots), Decimal(0))
    proceeds = money_down(units * price)
    sold = []
    short, long = Decimal("0.00"), Decimal("0.00")
    for lot, part in zip(lots, proceeds_split(proceeds, [lot.units for lot in lots]), strict=True):
        term = term_on(lot.holding_from, day)
        gain = part - lot.basis
        sold.append(LotSold(lot, part, gain, term))
        if term == SHORT:
            short += gain
        else:
            long += gain
    basis = sum((lot.basis for lot in lots), Decimal(0))
    return Sale(tuple(sold), units, price, proceeds, basis, short, long)


def harvest_select(
    *,
    lots: Sequence[LotView],
    price: Decimal,
    day: date,
    min_loss: Decimal,
    min_fraction: Decimal,
    washed_elsewhere: bool = False,
    replacement_blocked: bool = False,
) -> Sale | None:
    """The harvest of one fund's lots in one account at `price` on `day`, or None.

    The lots at a loss, with any lot bought in the 30 days up to `day` (which would otherwise
    wash the loss), are sold when their net loss is at least `min_loss` and at least
    `min_fraction` of their basis. None as well when `washed_elsewhere` (an identical fund bought
    in the last 30 days in another account is still held) or `replacement_blocked` (buying the
    alternate would wash a loss of its own)."""
    if washed_elsewhere or replacement_blocked:
        return None
    losing = {lot.id for lot in lots if lot.units * price < lot.basis}
    if not losing:
        return None
    window_start = day - timedelta(days=WASH_WINDOW_DAYS)
    chosen = [lot for lot in lots if lot.id in losing or lot.acquired_on >= window_start]
    sale = sale_of(chosen, price=price, day=day)
    loss = -sale.gain
    if loss < min_loss or loss < min_fraction * sale.basis:
        return None
    return sale


def switch_back_due(*, last_loss_sale: date | None, day: date) -> bool:
    """Whether buying the primary is clear of the wash-sale window: its last loss sale was more
    than 30 days before `day` (day 31 or later), or there was none."""
    return last_loss_sale is None or (day - last_loss_sale).days > WASH_WINDOW_DAYS


def switch_back_select(
    *,
    lots: Sequence[LotView],
    price: Decimal,
    day: date,
    last_loss_sale: date | None,
    max_short_gain: Decimal,
) -> Sale | None:
    """The sale of all the alternate's lots to buy back the primary, or None while the primary's
    wash-sale window runs or the sale would realise a net short-term gain above
    `max_short_gain`."""
    if not lots or not switch_back_due(last_loss_sale=last_loss_sale, day=day):
        return None
    sale = sale_of(lots, price=price, day=day)
    if sale.short_gain > max_short_gain:
        return None
    return sale


def tax_saved(sale: Sale, rates: TaxRates) -> Decimal:
    """Estimated tax saved now: −(short-term gain × short rate + long-term gain × long rate);
    negative where the sale realises a taxable gain."""
    return money(-(sale.short_gain * rates.short + sale.long_gain * rates.long))


def _thresholds() -> tuple[Decimal, Decimal, Decimal]:
    return (
        Decimal(str(settings.TLH_MIN_LOSS)),
        Decimal(str(settings.TLH_MIN_LOSS_FRACTION)),
        Decimal(str(settings.TLH_SWITCH_BACK_MAX_GAIN)),
    )


# --- Candidates: the rule applied to an account's lots, with the wash-sale checks --------------


@dataclass(frozen=True)
class Candidate:
    """A harvest or switch back due in an account at a close, with all its preview figures and
    the state they were computed from."""

    kind: str
    sell: Asset
    buy: Asset
    sale: Sale
    buy_price: Decimal
    buy_units: Decimal
    rates: TaxRates
    tax_saved: Decimal
    reason: str
    state: dict[str, Any]
    fingerprint: str


def _is_taxable(account: Account) -> bool:
    return account.goal.account_type == Goal.AccountType.TAXABLE


def _lot_view(lot: Lot) -> LotView:
    return LotView(
        id=lot.pk,
        acquired_on=lot.acquired_on,
        holding_from=lot.holding_from or lot.acquired_on,
        units=lot.remaining,
        basis=money(lot_basis(lot)),
    )


def _partner(ticker: str) -> str:
    return targets.PRIMARIES.get(ticker) or targets.ALTERNATES[ticker]


@dataclass(frozen=True)
class _Reads:
    """What the candidates of some accounts at `day`'s close are computed from, read for all of
    them at once (`_reads`): the paired funds each holds, their partners, the closes, the lots,
    and the client-wide wash-sale facts."""

    day: date
    held: dict[int, list[Position]]  # account id → its paired funds held (asset loaded), by ticker
    partners: dict[str, Asset]  # the held funds' pair partners, by ticker
    closes: dict[int, Decimal]
    lots: dict[tuple[int, int], list[LotView]]  # (account id, asset id) → open lots, oldest first
    # client id → {(account id, ticker)}: `tax.recent_purchases`
    purchases: dict[int, set[tuple[int, str]]]
    open_losses: set[tuple[int, str]]  # `tax.open_loss_funds`
    last_losses: dict[tuple[int, str], date]  # `tax.last_loss_sales`

    def partner(self, ticker: str) -> Asset:
        partner = self.partners.get(_partner(ticker))
        if partner is None:
            raise Asset.DoesNotExist(f"No fund {_partner(ticker)}, the pair of {ticker}.")
        return partner

    def bought_elsewhere(self, *, account: Account, ticker: str) -> bool:
        """A fund identical to `ticker` bought in the 30 days up to the day in another of the
        client's accounts and still held: selling `ticker` at a loss now would be washed by it."""
        same = identical_tickers(ticker)
        return any(
            other != account.pk and bought in same
            for other, bought in self.purchases.get(account.client_id, ())
        )

    def wash_blocked(self, *, client_id: int, ticker: str) -> bool:
        """`tax.wash_blocked`: buying `ticker` on the day would wash an open loss."""
        return any((client_id, same) in self.open_losses for same in identical_tickers(ticker))

    def last_loss_sale(self, *, client_id: int, ticker: str) -> date | None:
        """The latest sale at a loss of a fund identical to `ticker` in the client's taxable
        accounts."""
        dates = [
            self.last_losses[(client_id, same)]
            for same in identical_tickers(ticker)
            if (client_id, same) in self.last_losses
        ]
        return max(dates, default=None)


def _reads(*, accounts: Sequence[Account], day: date) -> _Reads:
    """`_Reads` of these accounts (goal loaded) in a fixed number of queries whatever their
    number; accounts other than taxable hold nothing here."""
    paired = set(targets.PRIMARIES) | set(targets.ALTERNATES)
    taxable = {a.pk: a for a in accounts if _is_taxable(a)}
    held: dict[int, list[Position]] = {}
    positions = Position.objects.filter(
        account_id__in=list(taxable), quantity__gt=0, asset__ticker__in=paired
    ).select_related("asset")
    for position in sorted(positions, key=lambda p: (p.account_id, p.asset.ticker)):
        held.setdefault(position.account_id, []).append(position)
    if not held:
        return _Reads(day, {}, {}, {}, {}, {}, set(), {})
    tickers = {p.asset.ticker for positions in held.values() for p in positions}
    partners = {
        a.ticker: a for a in Asset.objects.filter(ticker__in={_partner(t) for t in tickers})
    }
    funds = {p.asset_id: p.asset for positions in held.values() for p in positions}
    closes = closes_on(day=day, assets=[*funds.values(), *partners.values()])
    lots: dict[tuple[int, int], list[LotView]] = {}
    for lot in Lot.objects.filter(
        account_id__in=list(held), asset_id__in=list(funds), remaining__gt=0
    ).order_by("account_id", "asset_id", "acquired_on", "id"):
        lots.setdefault((lot.account_id, lot.asset_id), []).append(_lot_view(lot))
    clients = {taxable[account_id].client_id for account_id in held}
    # A purchase elsewhere washes a harvest of a fund identical to the one bought.
    washing = {same for t in tickers for same in identical_tickers(t)}
    purchases: dict[int, set[tuple[int, str]]] = {}
    for client, account_id, ticker in recent_purchases(
        client_ids=clients, tickers=washing, day=day
    ):
        purchases.setdefault(client, set()).add((account_id, ticker))
    return _Reads(
        day=day,
        held=held,
        partners=partners,
        closes=closes,
        lots=lots,
        purchases=purchases,
        open_losses=open_loss_funds(client_ids=clients, day=day),
        last_losses=last_loss_sales(client_ids=clients),
    )


def _fingerprint(state: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def _candidate(
    *,
    kind: str,
    account: Account,
    held: Position,
    buy: Asset,
    sale: Sale,
    day: date,
    extra: dict[str, Any],
) -> Candidate:
    sell = held.asset
    buy_price = extra.pop("buy_price")
    buy_units = units_for_amount(sale.proceeds, buy_price)
    rates = marginal_rates(client=account.client, year=day.year)
    saved = tax_saved(sale, rates)
    min_loss, min_fraction, max_gain = _thresholds()
    state = {
        "kind": kind,
        "market_date": day.isoformat(),
        "sell": sell.ticker,
        "buy": buy.ticker,
        "prices": {sell.ticker: str(sale.price), buy.ticker: str(buy_price)},
        "lots": [[s.lot.id, str(s.lot.units), str(s.lot.basis)] for s in sale.lots],
        "held": str(held.quantity),
        "rates": [str(rates.short), str(rates.long)],
        "thresholds": [str(min_loss), str(min_fraction), str(max_gain)],
        **extra,
    }
    reason = (_harvest_reason if kind == Kind.HARVEST else _switch_back_reason)(
        account=account, sell=sell, buy=buy, sale=sale, rates=rates, saved=saved, state=state
    )
    return Candidate(
        kind,
        sell,
        buy,
        sale,
        buy_price,
        buy_units,
        rates,
        saved,
        reason,
        state,
        _fingerprint(state),
    )


def _candidates(*, kind: str, account: Account, reads: _Reads) -> list[Candidate]:
    """The harvests (or switch backs) due in the account (client loaded) at the reads' close,
    one per paired fund held (per alternate held, for switch backs)."""
    if not _is_taxable(account):
        return []
    day = reads.day
    min_loss, min_fraction, max_gain = _thresholds()
    found = []
    for held in reads.held.get(account.pk, []):
        sell = held.asset
        if kind == Kind.SWITCH_BACK and sell.ticker not in targets.ALTERNATES:
            continue
        buy = reads.partner(sell.ticker)
        if sell.pk not in reads.closes or buy.pk not in reads.closes:
            continue
        price, buy_price = reads.closes[sell.pk], reads.closes[buy.pk]
        lots = reads.lots.get((account.pk, sell.pk), [])
        extra: dict[str, Any] = {"buy_price": buy_price}
        if kind == Kind.HARVEST:
            elsewhere = reads.bought_elsewhere(account=account, ticker=sell.ticker)
            blocked = reads.wash_blocked(client_id=account.client_id, ticker=buy.ticker)
            sale = harvest_select(
                lots=lots,
                price=price,
                day=day,
                min_loss=min_loss,
                min_fraction=min_fraction,
                washed_elsewhere=elsewhere,
                replacement_blocked=blocked,
            )
            if sale is None and (elsewhere or blocked):
                logger.info(
                    "harvest refused by the wash-sale rule",
                    extra={"account_id": account.pk, "ticker": sell.ticker},
                )
            extra["wash"] = [elsewhere, blocked]
        else:
            last = reads.last_loss_sale(client_id=account.client_id, ticker=buy.ticker)
            sale = switch_back_select(
                lots=lots, price=price, day=day, last_loss_sale=last, max_short_gain=max_gain
            )
            extra["last_loss_sale"] = last.isoformat() if last else None
        if sale is not None:
            found.append(
                _candidate(
                    kind=kind, account=account, held=held, buy=buy, sale=sale, day=day, extra=extra
                )
            )
    return found


def harvest_candidates(*, account: Account, day: date) -> list[Candidate]:
    """The harvests due in the account at `day`'s close, one per paired fund held (none outside
    taxable accounts)."""
    if not _is_taxable(account):
        return []
    reads = _reads(accounts=[account], day=day)
    return _candidates(kind=Kind.HARVEST, account=account, reads=reads)


def switch_back_candidates(*, account: Account, day: date) -> list[Candidate]:
    """The switch backs due in the account at `day`'s close: one per alternate held whose
    primary is clear of the wash-sale window and whose sale realises little short-term gain."""
    if not _is_taxable(account):
        return []
    reads = _reads(accounts=[account], day=day)
    return _candidates(kind=Kind.SWITCH_BACK, account=account, reads=reads)


def _rates_text(rates: TaxRates) -> str:
    return f"{rates.short:.1%} short-term / {rates.long:.1%} long-term"


def _gain_split(sale: Sale, currency: str) -> str:
    return (
        f"short-term {money_text(sale.short_gain, currency)}, "
        f"long-term {money_text(sale.long_gain, currency)}"
    )


def _index(asset: Asset) -> str:
    return f" ({asset.index_name})" if asset.index_name else ""


def _harvest_reason(
    *,
    account: Account,
    sell: Asset,
    buy: Asset,
    sale: Sale,
    rates: TaxRates,
    saved: Decimal,
    state: dict[str, Any],
) -> str:
    currency = account.currency
    dates = ", ".join(sorted({s.lot.acquired_on.isoformat() for s in sale.lots}))
    lots, them = ("lot", "it") if len(sale.lots) == 1 else ("lots", "them")
    below = -sale.gain / sale.basis if sale.basis else Decimal(0)
    loss = money_text(-sale.gain, currency)
    return (
        f"{sell.ticker} closed at {sale.price} on {state['market_date']}, {below:.1%} below the "
        f"cost of the {lots} bought on {dates}. Selling {them} realises a {loss} loss "
        f"({_gain_split(sale, currency)}), "
        f"worth about {money_text(saved, currency)} in federal tax at your estimated "
        f"{_rates_text(rates)} rates. The {money_text(sale.proceeds, currency)} of proceeds buy "
        f"{buy.ticker}{_index(buy)}, the same kind of investment tracking a different index "
        f"than {sell.ticker}{_index(sell)}, so your mix stays the same and the loss is not "
        f"washed. After 30 days we switch back when that realises little or no short-term gain."
    )


def _switch_back_reason(
    *,
    account: Account,
    sell: Asset,
    buy: Asset,
    sale: Sale,
    rates: TaxRates,
    saved: Decimal,
    state: dict[str, Any],
) -> str:
    currency = account.currency
    last = state.get("last_loss_sale")
    window = (
        f"the 30-day wash-sale window of the {buy.ticker} loss sold on {last} has passed"
        if last
        else f"no {buy.ticker} loss sale stands in the way"
    )
    gain = sale.gain
    outcome = (
        f"realises a {money_text(gain, currency)} gain ({_gain_split(sale, currency)}), about "
        f"{money_text(-saved, currency)} in federal tax at your estimated {_rates_text(rates)} "
        "rates"
        if gain > 0
        else f"realises a {money_text(-gain, currency)} loss ({_gain_split(sale, currency)})"
    )
    return (
        f"Back to {buy.ticker}, the model portfolio's fund: {window}. Selling the {sell.ticker} "
        f"lots {outcome}, and the {money_text(sale.proceeds, currency)} of proceeds buy "
        f"{buy.ticker}."
    )


# --- Propose ----------------------------------------------------------------------------------


SUPERSEDED_FIELDS = ["status", "superseded_reason", "decided_at"]


def _mark_superseded(harvest: TaxHarvest, reason: str) -> None:
    harvest.status = Status.SUPERSEDED
    harvest.superseded_reason = reason
    harvest.decided_at = timezone.now()


def _supersede(harvest: TaxHarvest, reason: str) -> None:
    _mark_superseded(harvest, reason)
    harvest.save(update_fields=SUPERSEDED_FIELDS)


def _changes(*, harvest: TaxHarvest, now: Candidate | None) -> list[str]:
    """What differs between the state a harvest was computed from and now, in plain words;
    empty when nothing did."""
    if now is None:
        what = "harvest" if harvest.kind == Kind.HARVEST else "switch back"
        return [f"at today's state the {what} of {harvest.state['sell']} is no longer due"]
    if now.fingerprint == harvest.fingerprint:
        return []
    was, new = harvest.state, now.state
    changes = []
    if was["market_date"] != new["market_date"]:
        changes.append(
            f"the market date moved from {was['market_date']} to {new['market_date']} (new prices)"
        )
    elif was["prices"] != new["prices"]:
        changes.append("the closes were corrected")
    if was["lots"] != new["lots"]:
        changes.append(f"the {was['sell']} lots to sell changed")
    if was["held"] != new["held"]:
        changes.append(f"the {was['sell']} units held changed")
    if was["rates"] != new["rates"]:
        changes.append("your estimated tax rates changed")
    if was["thresholds"] != new["thresholds"]:
        changes.append("the harvesting thresholds changed")
    return changes or ["the account's state changed"]


def _harvest_of(*, account: Account, candidate: Candidate, day: date) -> TaxHarvest:
    """The proposal (unsaved) of a candidate."""
    c = candidate
    return TaxHarvest(
        account=account,
        kind=c.kind,
        market_date=day,
        sell_asset=c.sell,
        buy_asset=c.buy,
        units=c.sale.units,
        price=c.sale.price,
        proceeds=c.sale.proceeds,
        buy_units=c.buy_units,
        buy_price=c.buy_price,
        lots=[s.as_json() for s in c.sale.lots],
        short_term_gain=c.sale.short_gain,
        long_term_gain=c.sale.long_gain,
        tax_rate_short=c.rates.short,
        tax_rate_long=c.rates.long,
        tax_saved=c.tax_saved,
        reason=c.reason,
        state=c.state,
        fingerprint=c.fingerprint,
    )


def _create(*, account: Account, candidate: Candidate, day: date) -> TaxHarvest:
    harvest = _harvest_of(account=account, candidate=candidate, day=day)
    harvest.save(force_insert=True)
    return harvest


def _plan(
    *,
    account: Account,
    kind: str,
    candidates: list[Candidate],
    pending: dict[int, TaxHarvest],
    executed: set[int],
    day: date,
) -> tuple[list[TaxHarvest], list[TaxHarvest]]:
    """What `_propose` writes, decided without writing: the pending proposals to supersede
    (marked, unsaved) and the new ones (unsaved). `pending` (sell asset id → the account's
    pending proposal) is brought up to date: the superseded leave it, the new join it; `executed`
    holds the funds already harvested or switched back today."""
    due = {c.sell.pk: c for c in candidates}
    superseded = []
    for sell_id, harvest in list(pending.items()):
        if harvest.kind != kind:
            if kind == Kind.HARVEST and sell_id in due:
                _mark_superseded(harvest, "Replaced by a tax-loss harvest of the same fund.")
                superseded.append(harvest)
                del pending[sell_id]
            continue
        changes = _changes(harvest=harvest, now=due.get(sell_id))
        if not changes:
            continue
        _mark_superseded(harvest, "Replaced by the daily check: " + "; ".join(changes) + ".")
        superseded.append(harvest)
        del pending[sell_id]
    made = []
    for candidate in candidates:
        if candidate.sell.pk in pending or candidate.sell.pk in executed:
            continue  # kept, a pending proposal of the other kind, or done today
        harvest = _harvest_of(account=account, candidate=candidate, day=day)
        pending[candidate.sell.pk] = harvest
        made.append(harvest)
    return superseded, made


def _executed_today(*, account_ids: list[int], day: date) -> set[tuple[int, int]]:
    """(account id, sell asset id) of the harvests and switch backs executed on `day`."""
    return set(
        TaxHarvest.objects.filter(
            account_id__in=account_ids, market_date=day, status=Status.EXECUTED
        ).values_list("account_id", "sell_asset_id")
    )


def _propose(
    *, account: Account, kind: str, candidates: list[Candidate], day: date
) -> list[TaxHarvest]:
    """Make the account's pending proposals of `kind` match `candidates`: a pending one whose
    state holds stays, one whose state changed (or that is no longer due) is superseded saying
    why, and each new candidate is proposed (and executed at once where the client opted in)."""
    pending = {
        h.sell_asset_id: h
        for h in TaxHarvest.objects.select_for_update().filter(
            account=account, status=Status.PENDING
        )
    }
    executed = {sell for _, sell in _executed_today(account_ids=[account.pk], day=day)}
    superseded, made = _plan(
        account=account,
        kind=kind,
        candidates=candidates,
        pending=pending,
        executed=executed,
        day=day,
    )
    for harvest in superseded:
        harvest.save(update_fields=SUPERSEDED_FIELDS)
    kept = [h for h in pending.values() if h.kind == kind and h.pk is not None]
    done = []
    for harvest in made:
        harvest.save(force_insert=True)
        logger.info(
            "tax harvest proposed",
            extra={"account_id": account.pk, "harvest_id": harvest.pk, "kind": kind},
        )
        if account.client.harvest_auto:
            outcome = _decide(harvest=harvest, approve=True, actor=None, day=day)
            harvest = outcome.harvest if isinstance(outcome, _Stale) else outcome
        else:
            harvest_notify(harvest=harvest)
        done.append(harvest)
    return kept + done


def _locked(account: Account) -> Account:
    return account_lock(account.pk, related=("goal", "client__user"))


@transaction.atomic
def harvest_propose(*, account: Account, day: date | None = None) -> list[TaxHarvest]:
    """Propose a tax-loss harvest for each fund of a taxable account that qualifies at `day`'s
    close (default: the market date). Idempotent per state: a pending harvest stays while
    nothing it was computed from changed, and is superseded, saying what changed, once
    something did. Executes at once where the client opted in (`Client.harvest_auto`)."""
    account = _locked(account)
    day = day or market_date_get()
    candidates = harvest_candidates(account=account, day=day)
    return _propose(account=account, kind=Kind.HARVEST, candidates=candidates, day=day)


@transaction.atomic
def switch_back_propose(*, account: Account, day: date | None = None) -> list[TaxHarvest]:
    """Propose switching each alternate the account holds back to its primary once the
    primary's wash-sale window has passed (see the module docstring); idempotent like
    `harvest_propose`, and auto-executed the same way."""
    account = _locked(account)
    day = day or market_date_get()
    candidates = switch_back_candidates(account=account, day=day)
    return _propose(account=account, kind=Kind.SWITCH_BACK, candidates=candidates, day=day)


def harvest_check(*, account: Account) -> list[TaxHarvest]:
    """On demand (the client or an advisor asks now): the daily check of one taxable account at
    the market date, harvests then switch-backs. Returns what it proposed or executed."""
    if account.goal.account_type != Goal.AccountType.TAXABLE:
        raise ValidationError(
            {
                "account": [
                    "Tax-loss harvesting applies to taxable accounts only: an IRA's gains "
                    "and losses are not taxed year by year."
                ]
            }
        )
    return harvest_propose(account=account) + switch_back_propose(account=account)


# Accounts whose lots are read at once: bounds the memory of a whole-book run.
REFRESH_READ_ACCOUNTS = 500


def _may_change(*, account_ids: list[int], day: date) -> set[int]:
    """Of these taxable accounts, those where `harvest_propose` or `switch_back_propose` may
    write anything at `day`'s close, read for all of them at once (a fixed number of queries):
    a pending proposal to keep or supersede, a paired fund whose lots at a loss meet the
    thresholds before the wash-sale checks, or an alternate whose primary is clear of its window.

    Read without locks, to decide which accounts the locked check (`_propose_many`) needs at
    all. Conservative: the checks that one adds (wash sales, the partner's close, the
    switch-back's gain cap) can only turn a candidate down, so skipping the others changes
    nothing."""
    if not account_ids:
        return set()
    min_loss, min_fraction, _ = _thresholds()
    maybe = set(
        TaxHarvest.objects.filter(account_id__in=account_ids, status=Status.PENDING).values_list(
            "account_id", flat=True
        )
    )
    paired = set(targets.PRIMARIES) | set(targets.ALTERNATES)
    # Position is the truth of what is held: `_reads` reads it; lots agree with it. Read apart,
    # not joined: PostgreSQL joined every position of the book held above zero to a chunk's
    # lots (it does not carry the IN list across the join), a read growing with the book.
    holdings = set(
        Position.objects.filter(account_id__in=account_ids, quantity__gt=0).values_list(
            "account_id", "asset_id"
        )
    )
    lots = [
        lot
        for lot in Lot.objects.filter(
            account_id__in=account_ids, remaining__gt=0, asset__ticker__in=paired
        )
        # The client and ticker as columns, not their rows: a lot's three model instances
        # were most of this read's time (tens of thousands of lots a chunk).
        .annotate(client_id=F("account__client_id"), ticker=F("asset__ticker"))
        .order_by("account_id", "asset_id", "acquired_on", "id")
        if (lot.account_id, lot.asset_id) in holdings
    ]
    if not lots:
        return maybe
    closes = closes_on(day=day, assets=[Asset(pk=pk) for pk in {lot.asset_id for lot in lots}])
    by_holding: dict[tuple[int, int], list[Any]] = {}  # Lots, with client_id and ticker
    for lot in lots:
        by_holding.setdefault((lot.account_id, lot.asset_id), []).append(lot)
    alternates_held = {
        (lot.client_id, lot.ticker) for lot in lots if lot.ticker in targets.ALTERNATES
    }
    last_losses: dict[tuple[int, str], date] = {}
    if alternates_held:
        last_losses = last_loss_sales(client_ids={client for client, _ in alternates_held})
    for (account_id, asset_id), held in by_holding.items():
        if account_id in maybe or asset_id not in closes:
            continue
        ticker, client_id = held[0].ticker, held[0].client_id
        if ticker in targets.ALTERNATES:
            primary = targets.ALTERNATES[ticker]
            dates = [
                last_losses[(client_id, t)]
                for t in identical_tickers(primary)
                if (client_id, t) in last_losses
            ]
            if switch_back_due(last_loss_sale=max(dates, default=None), day=day):
                maybe.add(account_id)
                continue
        sale = harvest_select(
            lots=[_lot_view(lot) for lot in held],
            price=closes[asset_id],
            day=day,
            min_loss=min_loss,
            min_fraction=min_fraction,
        )
        if sale is not None:
            maybe.add(account_id)
    return maybe


@transaction.atomic
def _propose_many(*, account_ids: list[int], day: date) -> list[int]:
    """`harvest_propose` then `switch_back_propose` for many accounts in a fixed number of
    queries: the accounts locked as `_locked` locks one (`accounts_lock`: their clients, then
    them), then their pending proposals; their state read under the locks; proposals
    superseded and made, and their notices, written in bulk. Proposing moves no money, so one
    transaction for them all holds no invariant back.

    Executing does: where a client opted into execution at once and something new is due in one
    of their accounts, all their accounts are left to the per-account path (an execution changes
    what the client's other accounts may harvest, through the wash-sale rule). Returns those
    accounts, in id order."""
    accounts = accounts_lock(account_ids, related=("goal", "client__user"))
    ids = [a.pk for a in accounts]
    pending: dict[int, dict[int, TaxHarvest]] = {pk: {} for pk in ids}
    for harvest in (
        TaxHarvest.objects.select_for_update()
        .filter(account_id__in=ids, status=Status.PENDING)
        .order_by("pk")
    ):
        pending[harvest.account_id][harvest.sell_asset_id] = harvest
    executed: dict[int, set[int]] = {pk: set() for pk in ids}
    for account_id, sell_id in _executed_today(account_ids=ids, day=day):
        executed[account_id].add(sell_id)
    reads = _reads(accounts=accounts, day=day)
    plans: dict[int, tuple[list[TaxHarvest], list[TaxHarvest]]] = {}
    for account in accounts:
        superseded, made = [], []
        # Harvests first, then switch backs, as `tax_harvests_refresh` ran them one by one: a
        # harvest replaces a pending switch back of its fund, and a switch back waits for a
        # pending harvest of its fund.
        for kind in (Kind.HARVEST, Kind.SWITCH_BACK):
            old, new = _plan(
                account=account,
                kind=kind,
                candidates=_candidates(kind=kind, account=account, reads=reads),
                pending=pending[account.pk],
                executed=executed[account.pk],
                day=day,
            )
            superseded += old
            made += new
        plans[account.pk] = (superseded, made)
    executing = {a.client_id for a in accounts if a.client.harvest_auto and plans[a.pk][1]}
    one_by_one = [a.pk for a in accounts if a.client_id in executing]
    superseded = [h for a in accounts if a.client_id not in executing for h in plans[a.pk][0]]
    made = [h for a in accounts if a.client_id not in executing for h in plans[a.pk][1]]
    # Superseded first: a fund's new proposal may replace its pending one (one pending a fund).
    rows_update(superseded, SUPERSEDED_FIELDS)
    TaxHarvest.objects.bulk_create(made, batch_size=500)
    for harvest in made:
        logger.info(
            "tax harvest proposed",
            extra={
                "account_id": harvest.account_id,
                "harvest_id": harvest.pk,
                "kind": harvest.kind,
            },
        )
    _proposed_notify_many(harvests=made, accounts={a.pk: a for a in accounts})
    return one_by_one


def tax_harvests_refresh(
    *, day: date | None = None, account_range: tuple[int, int] | None = None
) -> int:
    """Daily, after the dividends and before the rebalancing: harvests then switch backs in every
    taxable account (`account_range`: those with lo <= id < hi, a chunk of the daily batch).
    Safe to run twice. Returns the harvests and switch backs pending or executed for the day
    (in the range).

    Set-based: the lots, closes and pending proposals of many accounts are read at once
    (`_may_change`); those where something may be due are locked and proposed for together
    (`_propose_many`), in a fixed number of queries. The accounts of a client whose new
    proposals execute at once (`Client.harvest_auto`), or all of them when the set-based check
    fails, go one by one through `harvest_propose` and `switch_back_propose`, each account in
    its own transaction (one that fails is logged and retried by the next run)."""
    day = day or market_date_get()
    accounts = Account.objects.filter(goal__account_type=Goal.AccountType.TAXABLE).exclude(
        goal__status=Goal.Status.CLOSED
    )
    harvests = TaxHarvest.objects.filter(
        market_date=day, status__in=[Status.PENDING, Status.EXECUTED]
    )
    if account_range is not None:
        lo, hi = account_range
        accounts = accounts.filter(pk__gte=lo, pk__lt=hi)
        harvests = harvests.filter(account_id__gte=lo, account_id__lt=hi)
    ids = list(accounts.values_list("pk", flat=True).order_by("pk"))
    for start in range(0, len(ids), REFRESH_READ_ACCOUNTS):
        batch = ids[start : start + REFRESH_READ_ACCOUNTS]
        due = sorted(_may_change(account_ids=batch, day=day))
        if not due:
            continue
        try:
            one_by_one = _propose_many(account_ids=due, day=day)
        except OperationalError:
            raise  # transient: the task retries; what was done stays done
        except Exception:
            logger.exception("tax harvest check of many accounts failed; one by one instead")
            one_by_one = due
        for account_id in one_by_one:
            try:
                harvest_propose(account=Account(pk=account_id), day=day)
                switch_back_propose(account=Account(pk=account_id), day=day)
            except OperationalError:
                raise  # transient: the task retries; what was done stays done
            except Exception:
                logger.exception("tax harvest check failed", extra={"account_id": account_id})
    return harvests.count()


# --- Decide -----------------------------------------------------------------------------------


class _FillDiverged(Exception):
    """A fill differs from the preview; raised inside the execution's savepoint."""


def _description(harvest: TaxHarvest) -> str:
    what = "Tax-loss harvest" if harvest.kind == Kind.HARVEST else "Switch back"
    return f"{what}: sold {harvest.sell_asset.ticker}, bought {harvest.buy_asset.ticker}"


def _execute(*, harvest: TaxHarvest, account: Account, broker: Broker) -> Transaction:
    """Book exactly the preview in one transaction: the listed lots sold, the alternate (or the
    primary) bought with the whole proceeds, each fill checked against what was shown."""
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.TRADE,
        amount=Decimal("0.00"),
        market_date=harvest.market_date,
        description=_description(harvest),
    )
    sell, buy = harvest.sell_asset, harvest.buy_asset
    sold = broker.sell(asset=sell, quantity=harvest.units, day=txn.market_date)
    if (sold.price, sold.quantity, sold.cash) != (harvest.price, -harvest.units, harvest.proceeds):
        raise _FillDiverged(
            f"the sale of {sell.ticker} would fill at {sold.price} for "
            f"{money_text(sold.cash, account.currency)}, not as shown"
        )
    ledger_fill(txn=txn, account=account, fill=sold, lot_ids=[lot["lot"] for lot in harvest.lots])
    bought = broker.buy(asset=buy, amount=harvest.proceeds, day=txn.market_date)
    if (bought.price, bought.quantity) != (harvest.buy_price, harvest.buy_units):
        raise _FillDiverged(f"the purchase of {buy.ticker} would not fill as shown")
    ledger_fill(txn=txn, account=account, fill=bought)
    return txn


@dataclass(frozen=True)
class _Stale:
    harvest: TaxHarvest
    changes: list[str]
    fresh: TaxHarvest | None


def _candidate_now(*, account: Account, harvest: TaxHarvest, day: date) -> Candidate | None:
    find = harvest_candidates if harvest.kind == Kind.HARVEST else switch_back_candidates
    return next(
        (c for c in find(account=account, day=day) if c.sell.pk == harvest.sell_asset_id), None
    )


def _stale(*, harvest: TaxHarvest, account: Account, changes: list[str], day: date) -> _Stale:
    """Supersede a harvest that can no longer execute as shown, and propose from today's state
    (not executed even where the client opted in: they see why first)."""
    _supersede(harvest, "Not executed: " + "; ".join(changes) + ".")
    fresh = None
    now = _candidate_now(account=account, harvest=harvest, day=day)
    if now is not None:
        fresh = _create(account=account, candidate=now, day=day)
        harvest_notify(harvest=fresh)
    logger.info(
        "tax harvest stale",
        extra={"harvest_id": harvest.pk, "fresh_harvest_id": fresh.pk if fresh else None},
    )
    return _Stale(harvest, changes, fresh)


def _decide(
    *,
    harvest: TaxHarvest,
    approve: bool,
    actor: User | None,
    broker: Broker | None = None,
    day: date | None = None,
) -> TaxHarvest | _Stale:
    # Locks in the order every money-moving service takes them: the client, the account, then
    # the account's rows.
    account_id = TaxHarvest.objects.values_list("account_id", flat=True).get(pk=harvest.pk)
    account = _locked(Account(pk=account_id))
    harvest = (
        # The harvest's row only: locking the funds' rows it joins would hold every other
        # account's ledger writes in them (their foreign keys' checks) until this commits.
        TaxHarvest.objects.select_for_update(of=("self",))
        .select_related("sell_asset", "buy_asset")
        .get(pk=harvest.pk)
    )
    if harvest.status != Status.PENDING:
        raise ValidationError({"status": [f"This harvest is already {harvest.status}."]})
    if not approve:
        harvest.status = Status.REJECTED
        harvest.decided_by, harvest.decided_at = actor, timezone.now()
        harvest.save(update_fields=["status", "decided_by", "decided_at"])
        return harvest
    day = day or market_date_get()
    changes = _changes(
        harvest=harvest, now=_candidate_now(account=account, harvest=harvest, day=day)
    )
    if changes:
        return _stale(harvest=harvest, account=account, changes=changes, day=day)
    try:
        with transaction.atomic():  # a savepoint: a diverging fill books nothing
            txn = _execute(harvest=harvest, account=account, broker=broker or PaperBroker())
    except _FillDiverged as exc:
        logger.warning("tax harvest fill diverged", extra={"harvest_id": harvest.pk}, exc_info=True)
        account.refresh_from_db(fields=["cash"])
        return _stale(harvest=harvest, account=account, changes=[str(exc)], day=day)
    harvest.status = Status.EXECUTED
    harvest.decided_by, harvest.decided_at = actor, timezone.now()
    harvest.executed_transaction = txn
    harvest.save(update_fields=["status", "decided_by", "decided_at", "executed_transaction"])
    logger.info("tax harvest executed", extra={"harvest_id": harvest.pk, "transaction_id": txn.pk})
    harvest_notify(harvest=harvest)
    return harvest


def stale_message(stale: _Stale) -> str:
    text = (
        f"Harvest {stale.harvest.pk} was not executed because it is out of date: "
        f"{'; '.join(stale.changes)}."
    )
    if stale.fresh is None:
        return text + " At today's state it is no longer due."
    return text + f" A fresh proposal ({stale.fresh.pk}) shows the trades for today's state."


def harvest_decide(
    *, harvest: TaxHarvest, approve: bool, actor: User | None, broker: Broker | None = None
) -> TaxHarvest:
    """Approve (execute exactly the preview, at the closes shown, in one transaction) or reject
    a pending harvest or switch back; audited. A stale approval supersedes it, proposes afresh
    and raises TaxHarvestStale (409): nobody approves trades they were not shown."""
    with transaction.atomic():
        outcome = _decide(harvest=harvest, approve=approve, actor=actor, broker=broker)
    if isinstance(outcome, _Stale):
        raise TaxHarvestStale(
            stale_message(outcome),
            extra={
                "harvest": outcome.harvest.pk,
                "changes": outcome.changes,
                "new_harvest": outcome.fresh.pk if outcome.fresh else None,
            },
        )
    return outcome


# --- Notices ----------------------------------------------------------------------------------


def _notice(*, harvest: TaxHarvest, account: Account) -> tuple[str, str, str] | None:
    """(event, title, body) of the notice of a harvest in its status (account: goal loaded);
    None for a status nobody is told about."""
    sell, buy = harvest.sell_asset.ticker, harvest.buy_asset.ticker
    saved = money_text(harvest.tax_saved, account.currency)
    is_harvest = harvest.kind == Kind.HARVEST
    if harvest.status == Status.EXECUTED:
        event = "executed"
        title = (
            f"Tax-loss harvest done in “{account.goal.name}”"
            if is_harvest
            else f"Switched back to {buy} in “{account.goal.name}”"
        )
        body = (
            f"We sold {sell} at a loss and bought {buy}: an estimated {saved} of federal tax "
            "saved, with the same mix of investments."
            if is_harvest
            else f"The wash-sale window has passed: we sold {sell} and bought back {buy}."
        )
    elif harvest.status == Status.PENDING:
        event = "proposed"
        title = (
            f"A tax-loss harvest waits for you in “{account.goal.name}”"
            if is_harvest
            else f"Switch back to {buy} in “{account.goal.name}”?"
        )
        body = (
            f"Selling {sell} at a loss and buying {buy} could save an estimated {saved} of "
            "federal tax. Review and approve it."
            if is_harvest
            else f"You can now sell {sell} and buy back {buy}. Review and approve it."
        )
    else:
        return None
    return event, title, body


def harvest_notify(*, harvest: TaxHarvest) -> Notification | None:
    """Tell the client a harvest (or switch back) waits for approval or was executed: one
    notice per harvest and event."""
    account = Account.objects.select_related("goal", "client__user").get(pk=harvest.account_id)
    notice = _notice(harvest=harvest, account=account)
    if notice is None:
        return None
    event, title, body = notice
    return notify(
        user=account.client.user,
        kind=Notification.Kind.TAX_HARVEST,
        key=f"tax_harvest:{harvest.pk}:{event}",
        title=title,
        body=body,
        link=f"/goals/{account.goal_id}",
    )


def _proposed_notify_many(*, harvests: list[TaxHarvest], accounts: dict[int, Account]) -> None:
    """`harvest_notify` of many new pending proposals (accounts: goal and client's user loaded)
    in a fixed number of queries, recorded as `notify` records each: one notice per event, and
    its email queued after the commit where the user's preference wants it."""
    kind = Notification.Kind.TAX_HARVEST
    notices = []
    for harvest in harvests:
        account = accounts[harvest.account_id]
        notice = _notice(harvest=harvest, account=account)
        if notice is None:
            continue
        event, title, body = notice
        notices.append(
            Notification(
                user=account.client.user,
                kind=kind,
                key=f"tax_harvest:{harvest.pk}:{event}",
                title=title[:200],
                body=body,
                link=f"/goals/{account.goal_id}"[:200],
            )
        )
    # Keys name harvests made in this transaction: no concurrent run can record them.
    notify_many(notices)


# --- Reads (the API's selectors) --------------------------------------------------------------


def tax_harvest_list(
    *, client: Client, account: Account | None = None, status: str | None = None
) -> QuerySet[TaxHarvest]:
    """The client's harvests and switch backs, newest first."""
    harvests = TaxHarvest.objects.filter(account__client=client).select_related(
        "account", "sell_asset", "buy_asset"
    )
    if account is not None:
        harvests = harvests.filter(account=account)
    if status:
        harvests = harvests.filter(status=status)
    return harvests.order_by("-created_at", "-id")


def tax_harvest_get(*, client: Client, harvest_id: int) -> TaxHarvest:
    harvest = tax_harvest_list(client=client).filter(pk=harvest_id).first()
    if harvest is None:
        raise NotFound
    return harvest


def tax_harvests_for_staff(*, user: User, status: str | None = None) -> QuerySet[TaxHarvest]:
    """Harvests of the clients the advisor works on (advisor.selectors.clients_in_reach)."""
    harvests = TaxHarvest.objects.select_related(
        "account__client", "sell_asset", "buy_asset"
    ).order_by("-created_at", "-id")
    if not user.is_superuser:
        harvests = harvests.filter(account__client__in=clients_in_reach(user))
    if status:
        harvests = harvests.filter(status=status)
    return harvests


def tax_harvest_get_for_staff(*, user: User, harvest_id: int) -> TaxHarvest:
    harvest = tax_harvests_for_staff(user=user).filter(pk=harvest_id).first()
    if harvest is None:
        raise NotFound
    return harvest
