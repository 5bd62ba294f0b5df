"""Grounded answers, one composer per intent (ml worker side).

Every number comes from the client's own data through selectors, with the market date it is
as of; general knowledge comes from the knowledge base, quoted and cited. Nothing the client
typed is executed or treated as an instruction: the text is only classified, searched and
matched against the client's own goal names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import cache

from advisor.models import Client
from advisor.selectors import risk_profile_get
from portfolios import projections
from portfolios import selectors as portfolio_selectors
from portfolios.models import GoalProjection, RebalanceProposal, RecurringDeposit
from portfolios.money import money
from portfolios.targets import CLASS_BOUNDS, UNIVERSE
from portfolios.valuation import drift_threshold

from ..projections import projection_compute
from ..selectors import holdings_news
from . import knowledge
from .matching import (
    GoalMatch,
    goals_match,
    holding_why_classes,
    period_parse,
)

UNSURE = (
    "I'm not sure I understood that. I can tell you your balance, performance, holdings, goal "
    "progress, risk level, fees, rebalancing and the news on your funds, explain investing "
    "terms, or connect you with your advisor."
)
PERIOD_NAMES = {
    "1M": "over the last month",
    "3M": "over the last 3 months",
    "YTD": "this year so far",
    "1Y": "over the last 12 months",
    "ITD": "since you started",
}
CLASS_NAMES = {
    "us_equity": "US stocks",
    "intl_developed_equity": "international developed stocks",
    "emerging_equity": "emerging-market stocks",
    "us_aggregate_bonds": "US bonds",
    "treasuries": "Treasuries",
    "tips": "inflation-protected Treasuries",
    "corporate_bonds": "corporate bonds",
    "real_estate": "real estate",
    "gold": "gold",
    "cash": "cash (T-bills)",
}
ATTRIBUTION_NAMES = {
    "age": "your age",
    "education": "your education",
    "married": "your marital status",
    "kids": "your dependents",
    "life_cycle": "your life stage",
    "occupation": "your work status",
    "income": "your income",
    "willingness": "your stated willingness to take risk",
    "net_worth": "your net worth",
}
# The risk model's inputs, all given by the client. Opinions stored by older models may also
# carry "saving" (a proxy) and "spend_more" (a constant); they are never offered as reasons.
MODEL_INPUTS_FROM_THE_CLIENT = frozenset(ATTRIBUTION_NAMES)


@dataclass
class Answer:
    text: str
    sources: list[dict[str, str]] = field(default_factory=list)
    escalate: str | None = None  # an Escalation.Reason value


@dataclass(frozen=True)
class Context:
    client: Client
    text: str
    previous_intents: tuple[str, ...]  # this conversation's earlier assistant intents, newest last
    search: Callable[[str], list[Any]]  # knowledge search: text -> hits (passage, score)


def usd(value: Decimal | float) -> str:
    return f"${money(Decimal(str(value))):,}"  # the one money module's rounding rule


def pct(value: Decimal | float | None, *, signed: bool = True) -> str:
    if value is None:
        return "n/a"
    number = float(value) * 100
    return f"{number:+.1f}%" if signed else f"{number:.1f}%"


def source_of(slug: str, excerpt: str = "") -> dict[str, str]:
    article = next((a for a in knowledge.articles() if a.slug == slug), None)
    title = article.title if article else slug
    if not excerpt and article:
        excerpt = article.paragraphs[0]
    return {"slug": slug, "title": title, "excerpt": excerpt[:400]}


def _chosen(
    summaries: list[portfolio_selectors.AccountSummary], match: GoalMatch
) -> list[portfolio_selectors.AccountSummary]:
    """The account summaries of the matched goals, in the goals' order."""
    by_goal = {s.account.goal_id: s for s in summaries}
    return [by_goal[g.pk] for g in match.goals if g.pk in by_goal]


def _one_goal(
    summaries: list[portfolio_selectors.AccountSummary], match: GoalMatch
) -> portfolio_selectors.AccountSummary | None:
    """The one goal account a question is about, if it names exactly one."""
    chosen = _chosen(summaries, match)
    return chosen[0] if match.named and len(chosen) == 1 else None


def _summary(client: Client) -> portfolio_selectors.PortfolioSummary:
    """The dashboard summary, cached under the same never-stale fingerprint as its endpoint."""
    fingerprint = portfolio_selectors.portfolio_fingerprint(client=client)
    key = f"chat-portfolio-summary:{client.pk}:{fingerprint}"
    summary = cache.get(key)
    if summary is None:
        summary = portfolio_selectors.portfolio_summary(client=client)
        cache.set(key, summary, portfolio_selectors.SUMMARY_CACHE_SECONDS)
    return summary


def _accounts(client: Client) -> list[portfolio_selectors.AccountSummary]:
    return [
        portfolio_selectors.account_summary(account=a)
        for a in portfolio_selectors.account_list(client=client)
    ]


NO_ACCOUNT = (
    "You don't have a funded account yet. Set up a goal and make a first deposit, and I'll be "
    "able to tell you how it's doing."
)


# --- One composer per intent -----------------------------------------------------------------


def greeting(ctx: Context) -> Answer:
    name = ctx.client.first_name or "there"
    return Answer(
        f"Hi {name}! I'm Meridian's assistant. Ask me about your balance, performance, "
        "holdings, goals, risk level, fees, rebalancing or the news on your funds, ask me to "
        "explain an investing term, or ask to talk to your advisor."
    )


def account_balance(ctx: Context) -> Answer:
    summaries = _accounts(ctx.client)
    if not summaries:
        return Answer(NO_ACCOUNT)
    total = sum((s.value for s in summaries), Decimal("0.00"))
    cash = sum((s.cash for s in summaries), Decimal("0.00"))
    day = summaries[0].market_date
    match = goals_match(ctx.client, ctx.text)
    chosen = _chosen(summaries, match)
    lines = [f"• {s.account.goal.name}: {usd(s.value)} (cash {usd(s.cash)})" for s in chosen]
    together = f"All your accounts together are worth {usd(total)}, of which {usd(cash)} is cash."
    one = _one_goal(summaries, match)
    if one is not None:  # about one goal: that goal first, the total after
        return Answer(
            f"As of the market close on {day:%B %-d, %Y}, your {one.account.goal.name} account "
            f"is worth {usd(one.value)}, of which {usd(one.cash)} is cash."
            + (f"\n{together}" if len(summaries) > 1 else "")
        )
    if match.named and len(chosen) < len(summaries):
        return Answer(
            f"As of the market close on {day:%B %-d, %Y}:\n" + "\n".join(lines) + f"\n{together}"
        )
    return Answer(
        f"As of the market close on {day:%B %-d, %Y}, your accounts are worth {usd(total)}, "
        f"of which {usd(cash)} is cash.\n" + "\n".join(lines)
    )


def _returns_text(periods: list[Any], period: str, whose: str) -> str:
    """The sentence "<whose> time-weighted return <period> is …, and since you started …", then
    the period's money-weighted return (labelled "a year" when annualised), its market gain and
    net deposits, the policy benchmark and the 60/40 reference: the dashboard card's figures."""
    by_period = {p.period: p for p in periods}
    asked, itd = by_period.get(period), by_period.get("ITD")
    parts = [f"{whose} time-weighted return"]
    if asked is not None and period != "ITD":
        parts.append(f" {PERIOD_NAMES[period]} is {pct(asked.twr)}")
        parts.append(f", and since you started it is {pct(itd.twr if itd else None)}.")
    else:
        parts.append(f" since you started is {pct(itd.twr if itd else None)}.")
        asked = itd
    if asked is None:
        return "".join(parts)
    span = PERIOD_NAMES[asked.period]
    if asked.mwr is not None:
        rate = f"{pct(asked.mwr)} a year" if asked.mwr_annualised else pct(asked.mwr)
        parts.append(f" Counting the timing of your money, {span} it is {rate}.")
    gain, flows = asked.market_gain, asked.net_flows
    net = f"-{usd(-flows)}" if flows < 0 else usd(flows)
    parts.append(
        f" {span[0].upper()}{span[1:]} the markets {'added' if gain >= 0 else 'took'} "
        f"{usd(abs(gain))} after fees, and your net deposits were {net}."
    )
    if asked.policy_benchmark is not None:
        parts.append(
            f" Your policy benchmark (your targets in index funds): {pct(asked.policy_benchmark)}"
        )
        parts.append(
            f"; a 60/40 stock/bond reference: {pct(asked.benchmark)}."
            if asked.benchmark is not None
            else "."
        )
    elif asked.benchmark is not None:
        parts.append(f" A 60/40 stock/bond reference returned {pct(asked.benchmark)}.")
    return "".join(parts)


TWR_MEANS = (
    " Time-weighted return measures how your investments did, leaving out the timing of "
    "your deposits and withdrawals, and is net of Meridian's advisory fee."
)


def performance(ctx: Context) -> Answer:
    summary = _summary(ctx.client)
    period = period_parse(ctx.text)
    match = goals_match(ctx.client, ctx.text)
    chosen = _chosen(summary.accounts, match)
    if match.named and chosen and len(chosen) < len(summary.accounts):
        # About some goals: each goal account's own returns, from the account's selector.
        sentences = []
        for s in chosen:
            periods = portfolio_selectors.account_performance(account=s.account).periods
            whose = f"your {s.account.goal.name} account's"
            sentences.append(
                _returns_text(periods, period, whose)
                if periods
                else f"{whose} history is too short for a return yet."
            )
        day = f"As of {summary.market_date:%B %-d, %Y}"
        text = (
            f"{day}, {sentences[0]}"
            if len(sentences) == 1
            else f"{day}:\n" + "\n".join(f"• {t[0].upper()}{t[1:]}" for t in sentences)
        )
        joint = " " if len(sentences) == 1 else "\n"
        return Answer(text + joint + TWR_MEANS.strip(), sources=[source_of("meridian-fees")])
    if not summary.performance:
        return Answer(NO_ACCOUNT if not summary.accounts else "There isn't enough history yet.")
    text = f"As of {summary.market_date:%B %-d, %Y}, " + _returns_text(
        summary.performance, period, "your"
    )
    return Answer(text + TWR_MEANS, sources=[source_of("meridian-fees")])


# Drift in words, exactly as portfolios.targets.drift computes it (½·Σ|actual − target| by
# asset class); the figure itself is always the account summary's.
DRIFT_MEANS = "half the sum of the gaps between each asset class's actual and target weight"


def _drifts_text(summaries: list[portfolio_selectors.AccountSummary]) -> str:
    """ "Retirement 2.2%, Lisbon flat 0.4%": each account summary's drift, as a percentage."""
    return ", ".join(
        f"{s.account.goal.name} {pct(s.drift, signed=False)}"
        for s in summaries
        if s.drift is not None
    )


def _class_totals(
    summaries: list[portfolio_selectors.AccountSummary],
) -> tuple[Decimal, dict[str, Decimal], dict[str, Decimal]]:
    """Total value, and value and target value per asset class, over some accounts."""
    total = sum((s.value for s in summaries), Decimal("0.00"))
    value: dict[str, Decimal] = {}
    target: dict[str, Decimal] = {}
    for s in summaries:
        for h in s.holdings:
            value[h.asset_class] = value.get(h.asset_class, Decimal(0)) + h.value
            target[h.asset_class] = (
                target.get(h.asset_class, Decimal(0)) + h.target_weight * s.value
            )
    return total, value, target


def holdings(ctx: Context) -> Answer:
    classes = holding_why_classes(ctx.text)
    if classes:  # "why do I hold gold?": the reason, not the table
        return holding_why(ctx, classes)
    summaries = _accounts(ctx.client)
    match = goals_match(ctx.client, ctx.text)
    one = _one_goal(summaries, match)
    chosen = (_chosen(summaries, match) if match.named else summaries) or summaries
    total, value, target = _class_totals(chosen)
    if not summaries or total <= 0:
        return Answer(NO_ACCOUNT)
    rows = sorted(value, key=lambda c: -value[c])
    lines = [
        f"• {CLASS_NAMES.get(c, c)}: {usd(value[c])}, {pct(value[c] / total, signed=False)} "
        f"(target {pct(target[c] / total, signed=False)})"
        for c in rows
        if value[c] > 0 or target[c] > 0
    ]
    drifts = _drifts_text(chosen)
    drift = f"\nDrift from target ({DRIFT_MEANS}): {drifts}." if drifts else ""
    day = f"{summaries[0].market_date:%B %-d, %Y}"
    if one is not None:
        opening = f"As of {day}, your {one.account.goal.name} account holds {usd(total)}:\n"
    else:
        opening = (
            f"As of {day}, you hold {usd(total)} across "
            f"{len(chosen)} goal account{'s' if len(chosen) != 1 else ''}:\n"
        )
    return Answer(
        opening + "\n".join(lines) + drift,
        sources=[source_of("how-meridian-invests")],
    )


# --- "Why do I hold …?": each asset class's role, from the knowledge base ----------------------


def holding_why(ctx: Context, classes: list[str]) -> Answer:
    """Each asked class's role, quoted from the knowledge base, and the client's own weight in
    it (for the goal named, else all goals) from the account summaries."""
    summaries = _accounts(ctx.client)
    match = goals_match(ctx.client, ctx.text)
    one = _one_goal(summaries, match)
    chosen = (_chosen(summaries, match) if match.named else summaries) or summaries
    total, value, target = _class_totals(chosen)
    where = f"your {one.account.goal.name} account" if one is not None else "your portfolio"
    parts, sources = [], []
    for asset_class in classes[:3]:
        role = knowledge.role_passage(asset_class)
        name = CLASS_NAMES.get(asset_class, asset_class)
        funds = " and ".join(t for t, c in UNIVERSE.items() if c == asset_class)
        low, high = CLASS_BOUNDS[asset_class]
        text = (
            f"Why {name}? From “{role.title}”: {role.text} Meridian holds {name} through "
            f"{funds}; the optimisation behind each risk level's portfolio sets its share, never "
            f"more than {pct(high, signed=False)}"
            + (f" nor less than {pct(low, signed=False)}" if low > 0 else "")
            + " of a portfolio."
        )
        held, aimed = value.get(asset_class, Decimal(0)), target.get(asset_class, Decimal(0))
        if total > 0 and held > 0:
            text += (
                f" As of {chosen[0].market_date:%B %-d, %Y}, {name} is "
                f"{pct(held / total, signed=False)} of {where} (target "
                f"{pct(aimed / total, signed=False)})."
            )
        elif total > 0 and aimed > 0:
            text += (
                f" You don't hold {name} at the moment; its target in {where} is "
                f"{pct(aimed / total, signed=False)}."
            )
        elif total > 0:
            text += f" You don't hold {name} at the moment: the target for {where} gives it none."
        else:
            text += f" You don't hold {name} yet."
        parts.append(text)
        sources.append(source_of(role.slug, role.text))
    sources.append(source_of("how-meridian-invests"))
    return Answer("\n\n".join(parts), sources=sources)


def _projection(goal: Any) -> projections.ProjectionOutcome | None:
    """The goal's current plan's projection, as every surface shows it
    (portfolio_selectors.goal_plan_projection); computed here first if it is missing."""
    outcome = portfolio_selectors.goal_plan_projection(goal=goal)
    if outcome.status == "pending" and outcome.months is not None:  # projectable, not computed
        inputs = projections.projection_inputs(goal=goal)
        projection, _ = projections.projection_request(goal=goal, inputs=inputs)
        if projection.status == GoalProjection.Status.PENDING:
            projection_compute(projection_id=projection.pk)  # we are the ml worker
        outcome = portfolio_selectors.goal_plan_projection(goal=goal)
    return outcome if outcome.status == "ready" else None


def goal_progress(ctx: Context) -> Answer:
    match = goals_match(ctx.client, ctx.text)
    goals = match.goals
    if not goals:
        return Answer("You haven't set a goal yet. Add one under Goals and I'll track it.")
    lines = []
    for goal in goals:
        result = _projection(goal)
        if result is None:
            lines.append(f"• {goal.name}: the projection isn't available yet.")
            continue
        # A ready projection has all three (None only while pending).
        finals = (result.low_final_value, result.median_final_value, result.high_final_value)
        low, median, high = (value or Decimal("0.00") for value in finals)
        lines.append(
            f"• {goal.name}: a {result.probability:.0%} chance of reaching "
            f"{usd(goal.target_amount)} by {goal.target_date:%B %Y}; the median projected value "
            f"is {usd(median)} in today's money (10th–90th percentile: {usd(low)}–{usd(high)})."
        )
    opening = "Here is where your goals stand, from 10,000 simulated markets with your planned "
    one = _one_goal(_accounts(ctx.client), match) if match.named else None
    if one is not None:  # about one goal: that goal and its account first
        opening = (
            f"{one.account.goal.name}: its account is worth {usd(one.value)} as of the market "
            f"close on {one.market_date:%B %-d, %Y}. From 10,000 simulated markets with your "
            "planned "
        )
    return Answer(
        opening + "contributions:\n" + "\n".join(lines),
        sources=[source_of("meridian-projections")],
    )


def risk_profile(ctx: Context) -> Answer:
    profile = risk_profile_get(client=ctx.client)
    if profile is None:
        return Answer(
            "You haven't completed the risk questionnaire yet. You'll find it under Settings → "
            "Risk profile; it takes about five minutes."
        )
    # The client's explanation of the suitability decision: the same record, level and
    # reason as the risk page and the advisor's workspace, in the client's words.
    text = profile.client_explanation
    model = profile.model_opinion
    attributions = (
        {
            k: v
            for k, v in (model.details.get("attributions") or {}).items()
            if k in MODEL_INPUTS_FROM_THE_CLIENT
        }
        if model is not None
        else {}
    )
    if attributions:
        top = sorted(attributions.items(), key=lambda kv: -abs(kv[1]))[:3]
        reasons = ", ".join(
            f"{ATTRIBUTION_NAMES.get(k, k)} ({'raises' if v > 0 else 'lowers'} it)" for k, v in top
        )
        text += f" In the risk model's opinion, what weighs most: {reasons}."
    return Answer(text, sources=[source_of("meridian-risk-level")])


def change_risk(ctx: Context) -> Answer:
    text = (
        "To change your risk level, retake the risk questionnaire under Settings → Risk profile. "
        "Your new level sets new targets for your goals, and any trades are proposed as a "
        "rebalance for your advisor to approve."
    )
    summary = _summary(ctx.client)
    recent = {p.period: p.twr for p in summary.performance}
    fall = min((r for r in (recent.get("1M"), recent.get("3M")) if r is not None), default=None)
    if fall is not None and fall <= Decimal("-0.05"):
        text += (
            f" A caution: your portfolio is down {pct(-fall, signed=False)} recently. Lowering "
            "your risk after a fall sells at low prices and can lock in the loss; markets have "
            "historically recovered from downturns, though there is no guarantee they will."
        )
    else:
        text += (
            " A caution: change your risk because your situation or goals changed, not because "
            "markets moved. Lowering it during a downturn sells at low prices and can lock in "
            "losses."
        )
    return Answer(text, sources=[source_of("meridian-risk-level"), source_of("market-timing")])


def deposit_withdraw(ctx: Context) -> Answer:
    text = (
        "You can deposit into or withdraw from any goal account under Money, from $0.01 up to "
        "$10,000,000 per transaction. Orders fill at that day's market close; a request sent "
        "twice is applied once; deposits buy what is most underweight and withdrawals sell what "
        "is most overweight, and a withdrawal can't exceed the account's value. You can also set "
        "up a monthly recurring deposit on a day from the 1st to the 28th."
    )
    recurring = RecurringDeposit.objects.filter(
        account__client=ctx.client, active=True
    ).select_related("account__goal")
    if recurring:
        text += (
            " Your recurring deposits: "
            + "; ".join(
                f"{usd(r.amount)} into {r.account.goal.name} on day {r.day_of_month} "
                f"(next {r.next_run:%B %-d})"
                for r in recurring
            )
            + "."
        )
    return Answer(text, sources=[source_of("meridian-deposits-withdrawals")])


def rebalancing(ctx: Context) -> Answer:
    proposals = RebalanceProposal.objects.filter(account__client=ctx.client).select_related(
        "account__goal"
    )
    summaries = _accounts(ctx.client)
    match = goals_match(ctx.client, ctx.text)
    if match.named:  # about some goals: only their accounts
        summaries = _chosen(summaries, match) or summaries
        proposals = proposals.filter(account__in=[s.account for s in summaries])
    last = (
        proposals.filter(status=RebalanceProposal.Status.EXECUTED).order_by("-decided_at").first()
    )
    pending = list(proposals.filter(status=RebalanceProposal.Status.PENDING))
    parts = []
    if last is not None:
        parts.append(
            f"Your last rebalance was in {last.account.goal.name} on "
            f"{last.decided_at:%B %-d, %Y}, when drift had reached {pct(last.drift, signed=False)}."
        )
    else:
        parts.append("None of your accounts has needed a full rebalance yet.")
    if pending:
        parts.append(
            " Waiting for your advisor's approval: "
            + "; ".join(
                f"{p.account.goal.name} ({len(p.trades)} trades, proposed on "
                f"{p.market_date:%B %-d, %Y} when drift was {pct(p.drift, signed=False)})"
                for p in pending
            )
            + "."
        )
    drifts = _drifts_text(summaries)
    if drifts:
        threshold = drift_threshold()
        parts.append(
            f" Drift today ({DRIFT_MEANS}): "
            f"{drifts}. Meridian checks every day after the close and proposes a "
            f"rebalance when drift passes {pct(threshold, signed=False)}; deposits and "
            "withdrawals rebalance along the way."
        )
    return Answer("".join(parts), sources=[source_of("meridian-rebalancing")])


def rate_text(rate: Decimal) -> str:
    """0.0025 -> "0.25%"."""
    return f"{(rate * 100).normalize():f}%"


def fees(ctx: Context) -> Answer:
    summary = portfolio_selectors.fees_summary(client=ctx.client)
    text = (
        f"Meridian's advisory fee is {rate_text(summary.schedule.annual_rate)} a year of your "
        "account value, accrued daily on each day's closing value and billed monthly. There are "
        "no trading commissions, no deposit or withdrawal fees and no minimums."
    )
    if summary.accounts:
        text += (
            f" You have paid {usd(summary.paid_ytd)} in {summary.year} and "
            f"{usd(summary.paid_since_inception)} since you joined; at today's value of "
            f"{usd(summary.value)} the fee comes to about {usd(summary.estimated_annual_fee)} a "
            f"year. So far this month {usd(summary.accrued_this_month)} has accrued, billed "
            "after the month ends."
        )
    if summary.owed > 0:
        text += (
            f" {usd(summary.owed)} of fees could not be taken from your accounts when billed; "
            "it is paid from your next deposit before the rest is invested."
        )
    if summary.fund_expense_ratio is not None:
        text += (
            f" The funds' own expense ratios average {rate_text(summary.fund_expense_ratio)} a "
            "year, paid inside the funds rather than billed."
        )
    return Answer(text, sources=[source_of("meridian-fees")])


def market_sentiment(ctx: Context) -> Answer:
    news = holdings_news(client=ctx.client)
    scored = [a for a in news.assets if a.score is not None and a.count]
    if not scored:
        return Answer(
            "There's no recent scored news on the funds you hold.",
            sources=[source_of("meridian-news-sentiment")],
        )

    def mood(score: float | None) -> str:
        score = score or 0.0
        return "negative" if score <= -0.2 else "positive" if score >= 0.2 else "mixed/neutral"

    lines = []
    for a in scored[:6]:
        line = f"• {a.ticker} ({CLASS_NAMES.get(a.asset_class, a.asset_class)}): {mood(a.score)}"
        line += f", {a.count} headline{'s' if a.count != 1 else ''}"
        if a.headlines:
            line += f" — e.g. “{a.headlines[0]['headline']}”"
        lines.append(line)
    return Answer(
        f"News sentiment on your holdings over the 7 days to {news.market_date:%B %-d, %Y}:\n"
        + "\n".join(lines)
        + "\nMeridian uses news to explain moves and alert your advisor; it does not trade on it.",
        sources=[source_of("meridian-news-sentiment")],
    )


def education(ctx: Context) -> Answer:
    classes = holding_why_classes(ctx.text)
    if classes:  # "why do I own bonds?" may be classified here: same answer as under holdings
        return holding_why(ctx, classes)
    hits = ctx.search(ctx.text)
    if not hits:
        return Answer(
            "I couldn't find that in Meridian's knowledge base. Try rephrasing, or ask to talk "
            "to your advisor."
        )
    best = hits[0].passage
    sources = [source_of(h.passage.slug, h.passage.text) for h in hits]
    return Answer(f"From “{best.title}”: {best.text}", sources=sources)


def talk_to_advisor(ctx: Context) -> Answer:
    advisor = ctx.client.advisor
    who = advisor.get_full_name() if advisor else "a Meridian advisor"
    return Answer(
        f"I've asked {who} to get in touch with you about this conversation. You'll see the "
        "status here, and your advisor can read what we've discussed.",
        sources=[source_of("meridian-advisor")],
        escalate="requested",
    )


def security_recommendation(ctx: Context) -> Answer:
    follow_up = "security_recommendation" in ctx.previous_intents[-3:]
    text = (
        "I can't recommend buying or selling individual stocks, funds, bonds or cryptocurrencies. "
        "Meridian invests each goal in a diversified portfolio of low-cost ETFs matched to your "
        "risk level, because a single security can swing far more than a diversified mix."
    )
    if follow_up:
        text += " I've asked your advisor to get in touch so you can talk it through with a person."
        return Answer(text, sources=[source_of("meridian-security")], escalate="security_follow_up")
    text += (
        " If you'd like to talk it through with a person, ask me to connect you with your advisor."
    )
    return Answer(text, sources=[source_of("meridian-security")])


def out_of_scope(ctx: Context) -> Answer:
    return Answer(
        "Sorry, that's outside what I can help with. I'm here for your Meridian accounts, "
        "goals and general investing questions — or I can connect you with your advisor."
    )


COMPOSERS: dict[str, Callable[[Context], Answer]] = {
    "greeting": greeting,
    "account_balance": account_balance,
    "performance": performance,
    "holdings": holdings,
    "goal_progress": goal_progress,
    "risk_profile": risk_profile,
    "change_risk": change_risk,
    "deposit_withdraw": deposit_withdraw,
    "rebalancing": rebalancing,
    "fees": fees,
    "market_sentiment": market_sentiment,
    "education": education,
    "talk_to_advisor": talk_to_advisor,
    "security_recommendation": security_recommendation,
    "out_of_scope": out_of_scope,
}
