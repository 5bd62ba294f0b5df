"""Grounded answers, one composer per intent (ml worker side).

Every number comes from the client's own data through selectors, with the market date it is
as of; general knowledge comes from the knowledge base, quoted and cited. Nothing the client
typed is executed or treated as an instruction: the text is only classified, searched and
matched against the client's own goal names."""

from __future__ import annotations

import re
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
from portfolios.valuation import drift_threshold

from ..projections import projection_compute
from ..selectors import holdings_news
from . import knowledge

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
    "saving": "your saving habit",
    "spend_more": "your spending outlook",
    "net_worth": "your net worth",
}


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
    return f"${Decimal(str(value)).quantize(Decimal('0.01')):,}"


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


# --- Parsing what the client asked for (matching only, never executing) -----------------------

_PERIOD_PATTERNS = (
    (
        "ITD",
        r"since (?:the )?(?:start|beginning|inception|i (?:started|joined|opened|began))|"
        r"all[- ]time|overall|ever|in total|since day one|lifetime",
    ),
    ("1M", r"last month|past month|this month|1 ?month|30 days|four weeks|mtd"),
    ("3M", r"quarter|3 ?months|three months|90 days"),
    ("1Y", r"last year|past year|12 months|twelve months|1 ?year|one year|a year"),
    ("YTD", r"ytd|year to date|this year|so far this year|since january"),
)


def period_parse(text: str) -> str:
    """The reporting period a question asks for (default YTD)."""
    lowered = text.lower()
    for period, pattern in _PERIOD_PATTERNS:
        if re.search(pattern, lowered):
            return period
    return "YTD"


def goals_named(client: Client, text: str) -> list[Any]:
    """The client's goals the text names (by name words or goal type); all goals when none."""
    goals = list(client.goals.exclude(status="closed").order_by("target_date"))
    words = set(re.findall(r"[a-z0-9]+", text.lower()))
    synonyms = {
        "retirement": {"retirement", "retire", "retiring", "pension"},
        "home_purchase": {"house", "home", "apartment", "flat", "condo", "property", "mortgage"},
        "education": {"college", "education", "university", "school", "tuition", "kids"},
        "emergency_fund": {"emergency", "rainy", "safety", "cushion"},
        "major_purchase": {"car", "wedding", "purchase", "boat", "trip"},
        "general_wealth": {"wealth", "general", "investing"},
    }
    named = [
        g
        for g in goals
        if words & {w for w in re.findall(r"[a-z0-9]+", g.name.lower()) if len(w) > 2}
        or words & synonyms.get(g.goal_type, set())
    ]
    return named or goals


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
    wanted = {g.pk for g in goals_named(ctx.client, ctx.text)}
    lines = [
        f"• {s.account.goal.name}: {usd(s.value)} (cash {usd(s.cash)})"
        for s in summaries
        if s.account.goal_id in wanted
    ]
    return Answer(
        f"As of the market close on {day:%B %-d, %Y}, your accounts are worth {usd(total)}, "
        f"of which {usd(cash)} is cash.\n" + "\n".join(lines)
    )


def performance(ctx: Context) -> Answer:
    summary = _summary(ctx.client)
    if not summary.performance:
        return Answer(NO_ACCOUNT if not summary.accounts else "There isn't enough history yet.")
    by_period = {p.period: p for p in summary.performance}
    period = period_parse(ctx.text)
    asked, itd = by_period.get(period), by_period.get("ITD")
    parts = [f"As of {summary.market_date:%B %-d, %Y}, your time-weighted return"]
    if asked is not None and period != "ITD":
        parts.append(f" {PERIOD_NAMES[period]} is {pct(asked.twr)}")
        if asked.benchmark is not None:
            parts.append(f" (a 60/40 stock/bond benchmark: {pct(asked.benchmark)})")
        parts.append(f", and since you started it is {pct(itd.twr if itd else None)}.")
    else:
        parts.append(f" since you started is {pct(itd.twr if itd else None)}.")
        if itd is not None and itd.benchmark is not None:
            parts.append(f" The 60/40 benchmark returned {pct(itd.benchmark)} over the same time.")
    parts.append(
        " Time-weighted return measures how your investments did, leaving out the timing of "
        "your deposits and withdrawals, and is net of Meridian's advisory fee."
    )
    return Answer("".join(parts), sources=[source_of("meridian-fees")])


def holdings(ctx: Context) -> Answer:
    summaries = _accounts(ctx.client)
    total = sum((s.value for s in summaries), Decimal("0.00"))
    if not summaries or total <= 0:
        return Answer(NO_ACCOUNT)
    value: dict[str, Decimal] = {}
    target: dict[str, Decimal] = {}
    for s in summaries:
        for h in s.holdings:
            value[h.asset_class] = value.get(h.asset_class, Decimal(0)) + h.value
            target[h.asset_class] = (
                target.get(h.asset_class, Decimal(0)) + h.target_weight * s.value
            )
    rows = sorted(value, key=lambda c: -value[c])
    lines = [
        f"• {CLASS_NAMES.get(c, c)}: {usd(value[c])}, {pct(value[c] / total, signed=False)} "
        f"(target {pct(target[c] / total, signed=False)})"
        for c in rows
        if value[c] > 0 or target[c] > 0
    ]
    drifts = [s.drift for s in summaries if s.drift is not None]
    drift = (
        f" Your largest drift from target is {pct(max(drifts), signed=False)}." if drifts else ""
    )
    return Answer(
        f"As of {summaries[0].market_date:%B %-d, %Y}, you hold {usd(total)} across "
        f"{len(summaries)} goal account{'s' if len(summaries) != 1 else ''}:\n"
        + "\n".join(lines)
        + drift,
        sources=[source_of("how-meridian-invests")],
    )


def _projection(goal: Any) -> dict[str, Any] | None:
    """The stored projection for the goal as it stands, computed here if it is missing."""
    try:
        inputs = projections.projection_inputs(goal=goal)
    except projections.ProjectionUnavailable:
        return None
    projection, _ = projections.projection_request(goal=goal, inputs=inputs)
    if projection.status == GoalProjection.Status.PENDING:
        projection_compute(projection_id=projection.pk)  # we are the ml worker
        projection.refresh_from_db()
    return projection.result if projection.status == GoalProjection.Status.READY else None


def goal_progress(ctx: Context) -> Answer:
    goals = goals_named(ctx.client, ctx.text)
    if not goals:
        return Answer("You haven't set a goal yet. Add one under Goals and I'll track it.")
    lines = []
    for goal in goals:
        result = _projection(goal)
        if result is None:
            lines.append(f"• {goal.name}: the projection isn't available yet.")
            continue
        median = result["percentiles"]["p50"][-1]
        lines.append(
            f"• {goal.name}: a {result['probability']:.0%} chance of reaching "
            f"{usd(goal.target_amount)} by {goal.target_date:%B %Y}; the median projected value "
            f"is {usd(median)} in today's money (10th–90th percentile: "
            f"{usd(result['percentiles']['p10'][-1])}–{usd(result['percentiles']['p90'][-1])})."
        )
    return Answer(
        "Here is where your goals stand, from 10,000 simulated markets with your planned "
        "contributions:\n" + "\n".join(lines),
        sources=[source_of("meridian-projections")],
    )


def risk_profile(ctx: Context) -> Answer:
    profile = risk_profile_get(client=ctx.client)
    if profile is None:
        return Answer(
            "You haven't completed the risk questionnaire yet. You'll find it under Settings → "
            "Risk profile; it takes about five minutes."
        )
    a = profile.assessment
    text = (
        f"Your risk level is {a.risk_level} on a scale of 1 (most conservative) to 10 (most "
        f"aggressive). Your willingness to take risk scores {a.willingness_score}/100 and your "
        f"capacity to bear losses {a.capacity_score}/100; capacity caps the level."
    )
    model = profile.model_opinion
    if model is not None and model.details.get("attributions"):
        top = sorted(model.details["attributions"].items(), key=lambda kv: -abs(kv[1]))[:3]
        reasons = ", ".join(
            f"{ATTRIBUTION_NAMES.get(k, k)} ({'raises' if v > 0 else 'lowers'} it)" for k, v in top
        )
        text += (
            f" Our risk model, trained on the Survey of Consumer Finances, puts you at level "
            f"{model.risk_level}; what weighs most: {reasons}."
        )
    if a.flags:
        text += " Your advisor is reviewing your profile because some answers point different ways."
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
    last = (
        proposals.filter(status=RebalanceProposal.Status.EXECUTED).order_by("-decided_at").first()
    )
    pending = list(proposals.filter(status=RebalanceProposal.Status.PENDING))
    summaries = _accounts(ctx.client)
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
                f"{p.account.goal.name} (drift {pct(p.drift, signed=False)}, "
                f"{len(p.trades)} trades)"
                for p in pending
            )
            + "."
        )
    drifts = [
        f"{s.account.goal.name} {pct(s.drift, signed=False)}"
        for s in summaries
        if s.drift is not None
    ]
    if drifts:
        threshold = drift_threshold()
        parts.append(
            f" Drift today (largest gap between an asset class and its target): "
            f"{', '.join(drifts)}. Meridian checks every day after the close and proposes a "
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
        "account value, billed monthly at the month's last market close. There are no trading "
        "commissions, no deposit or withdrawal fees and no minimums."
    )
    if summary.accounts:
        text += (
            f" You have paid {usd(summary.paid_ytd)} in {summary.year} and "
            f"{usd(summary.paid_since_inception)} since you joined; at today's value of "
            f"{usd(summary.value)} the fee comes to about {usd(summary.estimated_annual_fee)} a "
            "year."
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
