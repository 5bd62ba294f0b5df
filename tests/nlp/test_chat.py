"""The chat assistant: every intent's answer path, compliance, escalation, the API."""

import io
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from advisor.selectors import risk_profile_get
from config.celery import app
from nlp.chat import answers, compliance, knowledge, matching
from nlp.chat import services as chat_services
from nlp.chat.intents import INTENTS
from nlp.models import Conversation, Escalation, Message
from portfolios import market, services, valuation
from portfolios.models import MarketAssumptions

from ..factories import ClientFactory, GoalFactory, UserFactory
from ..portfolios.conftest import BASE_PRICES, write_prices

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def kb_index(tmp_path_factory):
    from nlp.inference.retrieval import Embedder, KnowledgeIndex, index_build

    folder = tmp_path_factory.mktemp("knowledge")
    embedder = Embedder()
    index_build(folder, embedder)
    return KnowledgeIndex.load(folder, embedder)


@pytest.fixture
def funded(account, tmp_path, market_data, approved_set):
    """A client with a funded retirement account and a second market day for returns."""
    MarketAssumptions.objects.filter(pk=approved_set.assumptions_id).update(
        data={
            "tickers": ["VTI", "AGG", "BIL"],
            "expected_returns": [0.07, 0.035, 0.02],
            "covariance": [[0.03, 0.001, 0.0], [0.001, 0.003, 0.0], [0.0, 0.0, 0.0001]],
        }
    )
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    later = market_data + timedelta(days=3)
    rally = {**BASE_PRICES, "VTI": str(Decimal(BASE_PRICES["VTI"]) * Decimal("1.05"))}
    market.prices_load(path=write_prices(tmp_path / "later.csv", {later: rally}))
    client = account.client
    client.first_name = "Maya"
    client.advisor = UserFactory(is_staff=True, first_name="Ada", last_name="Advisor")
    client.save()
    return client


def ctx(client, text, kb_index=None, previous=()):
    def search(query):
        return kb_index.search(query, k=3, threshold=0.35) if kb_index else []

    return answers.Context(client=client, text=text, previous_intents=previous, search=search)


# --- Knowledge base ------------------------------------------------------------------------


def test_the_knowledge_base_has_40_articles_with_quotable_paragraphs():
    articles = knowledge.articles()
    assert len(articles) >= 40
    assert {"meridian-fees", "how-meridian-invests", "etfs", "emergency-funds"} <= {
        a.slug for a in articles
    }
    assert all(3 <= len(a.paragraphs) <= 6 for a in articles)


def test_no_knowledge_base_passage_trips_the_compliance_check():
    flagged = [(p.slug, p.index) for p in knowledge.passages() if compliance.findings_of(p.text)]
    assert flagged == []


def test_retrieval_finds_the_article_a_question_is_about(kb_index):
    cases = {
        "what is an ETF?": "etfs",
        "how much cash should I keep for emergencies": "emergency-funds",
        "explain tax loss harvesting": "tax-loss-harvesting",
        "Roth IRA vs traditional": {"roth-ira", "traditional-ira"},
    }
    for question, expected in cases.items():
        hits = kb_index.search(question, k=3, threshold=0.35)
        slugs = {h.passage.slug for h in hits}
        expected = {expected} if isinstance(expected, str) else expected
        assert slugs & expected, (question, slugs)


def test_an_unrelated_question_retrieves_nothing(kb_index):
    assert kb_index.search("best pizza topping in naples", k=3, threshold=0.35) == []


# --- Every intent's answer path --------------------------------------------------------------


def test_balance_is_the_clients_own_total_with_the_market_date(funded):
    reply = answers.account_balance(ctx(funded, "how much do I have?"))
    value = valuation.account_value(account=funded.accounts.get())
    assert f"${value.total:,}" in reply.text
    assert market.market_date_get().strftime("%B") in reply.text


def test_performance_gives_the_asked_period_and_since_inception(funded):
    reply = answers.performance(ctx(funded, "how did I do since I started?"))
    assert "since you started" in reply.text
    assert "%" in reply.text
    assert matching.period_parse("return last month") == "1M"
    assert matching.period_parse("ytd?") == "YTD"
    assert matching.period_parse("how am I doing") == "YTD"


def test_holdings_list_actual_against_target(funded):
    reply = answers.holdings(ctx(funded, "what am I invested in"))
    assert "US stocks" in reply.text
    assert "target" in reply.text


def test_goal_progress_gives_the_probability_and_projected_value(funded):
    reply = answers.goal_progress(ctx(funded, "am I on track to retire?"))
    goal = funded.goals.get()
    assert goal.name in reply.text
    assert "chance of reaching" in reply.text
    assert reply.sources[0]["slug"] == "meridian-projections"


def test_goal_progress_picks_the_named_goal(funded, approved_set):
    house = GoalFactory(
        client=funded,
        name="Lisbon flat",
        goal_type="home_purchase",
        target_date=timezone.localdate() + timedelta(days=6 * 365),
    )
    named = matching.goals_named(funded, "will we have enough for the flat?")
    assert named == [house]


# --- Which goal a question is about, and answers that start with it --------------------------


@pytest.fixture
def three_goals(funded):
    """Maya saves for retirement, a Lisbon flat and Leo's college; each account is funded."""
    retirement = funded.goals.get()
    retirement.name = "Retirement"
    retirement.save(update_fields=["name"])
    for name, goal_type, years, amount in (
        ("Lisbon flat", "home_purchase", 6, "2500.00"),
        ("Saving for Leo's college", "education", 12, "1500.00"),
    ):
        goal = GoalFactory(
            client=funded,
            name=name,
            goal_type=goal_type,
            target_date=timezone.localdate() + timedelta(days=years * 365),
        )
        services.deposit_make(account=goal.account, amount=Decimal(amount))
    return funded


def goal_names(client, text):
    return [g.name for g in matching.goals_named(client, text)]


@pytest.mark.parametrize(
    "text",
    [
        "how much is everything I'm saving for worth?",
        "how are all my goals doing",
        "how is each goal doing",
        "am I on track for every goal?",
        "how much do I have?",  # names no goal: all of them
    ],
)
def test_a_question_about_all_goals_answers_all_of_them(three_goals, text):
    assert goal_names(three_goals, text) == [
        "Lisbon flat",
        "Saving for Leo's college",
        "Retirement",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how much is in my Lisbon flat account", ["Lisbon flat"]),
        ("will we have enough for the flat?", ["Lisbon flat"]),
        ("am I on track for my retirment?", ["Retirement"]),  # a typo still matches
        ("how's Leo's fund doing", ["Saving for Leo's college"]),
        ("the flat and the college", ["Lisbon flat", "Saving for Leo's college"]),
    ],
)
def test_a_named_goal_is_matched_by_whole_words_fuzzily(three_goals, text, expected):
    assert goal_names(three_goals, text) == expected


def test_words_that_merely_contain_or_resemble_a_goal_name_do_not_match(three_goals):
    GoalFactory(client=three_goals, name="Car", goal_type="general_wealth")
    # "cards" and "carpet" contain "car"; "for" and "saving" are in a goal's name but say nothing.
    for text in ("what did I spend on cards and the carpet", "what am I saving for"):
        match = matching.goals_match(three_goals, text)
        assert not match.named
        assert len(match.goals) == 4


def test_a_balance_question_about_one_goal_starts_with_that_goals_account(three_goals):
    flat = three_goals.goals.get(name="Lisbon flat")
    value = valuation.account_value(account=flat.account).total
    total = sum(
        (valuation.account_value(account=a).total for a in three_goals.accounts.all()),
        Decimal("0.00"),
    )

    reply = answers.account_balance(ctx(three_goals, "how much is in my Lisbon flat account?"))

    first = reply.text.split("\n")[0]
    assert "your Lisbon flat account is worth" in first
    assert f"${value:,}" in first
    assert f"${total:,}" not in first
    assert "Retirement" not in reply.text


def test_a_goal_progress_question_about_one_goal_starts_with_that_goal(three_goals):
    reply = answers.goal_progress(ctx(three_goals, "am I on track for the flat?"))

    assert reply.text.startswith("Lisbon flat")
    assert "Retirement" not in reply.text
    assert "chance of reaching" in reply.text


def test_a_performance_question_about_one_goal_gives_that_accounts_return(three_goals):
    from portfolios import selectors

    retirement = three_goals.accounts.get(goal__name="Retirement")
    own = {p.period: p for p in selectors.account_performance(account=retirement).periods}

    reply = answers.performance(ctx(three_goals, "how has my retirement done since I started?"))

    assert reply.text.startswith("As of")
    assert "your Retirement account's time-weighted return" in reply.text
    assert answers.pct(own["ITD"].twr) in reply.text


def test_a_holdings_question_about_one_goal_shows_that_account(three_goals):
    flat = three_goals.goals.get(name="Lisbon flat")
    value = valuation.account_value(account=flat.account).total

    reply = answers.holdings(ctx(three_goals, "what is my Lisbon flat invested in?"))

    assert f"your Lisbon flat account holds ${value:,}" in reply.text.split("\n")[0]
    assert "Retirement" not in reply.text


# --- "Why do I hold …?" answers with the asset class's role ------------------------------------


@pytest.fixture
def gold_held(funded, approved_set):
    """Maya's target portfolios hold 4% gold (GLD), and a deposit bought it."""
    for portfolio in approved_set.portfolios.all():
        weights = dict(portfolio.weights)
        weights["BIL"], weights["GLD"] = "0.01", "0.04"
        portfolio.weights = weights
        portfolio.save(update_fields=["weights"])
    services.deposit_make(account=funded.accounts.earliest("pk"), amount=Decimal("1000.00"))
    return funded


def test_why_does_my_portfolio_hold_gold_gives_golds_role_and_the_clients_weight(gold_held):
    from portfolios import selectors

    summary = selectors.account_summary(account=gold_held.accounts.get())
    gold = sum(h.value for h in summary.holdings if h.asset_class == "gold")
    assert gold > 0

    reply = answers.holdings(ctx(gold_held, "Why does my portfolio hold gold?"))

    role = knowledge.role_passage("gold")
    assert role.slug == "gold"
    assert role.text in reply.text
    assert reply.sources[0]["slug"] == "gold"
    assert f"{answers.pct(gold / summary.value, signed=False)} of your portfolio" in reply.text
    assert "GLD" in reply.text
    assert "•" not in reply.text  # a reason, not the holdings table


@pytest.mark.parametrize(
    ("text", "asset_class", "slug"),
    [
        ("why do I own bonds?", "us_aggregate_bonds", "bonds-and-interest-rates"),
        ("Why do I have TIPS?", "tips", "tips-inflation-protection"),
        ("why do I own REITs", "real_estate", "reits-real-estate-funds"),
        (
            "why am I invested in emerging markets?",
            "emerging_equity",
            "emerging-vs-developed-markets",
        ),
        ("what's the point of holding international stocks", "intl_developed_equity", None),
        ("why is there cash in my account", "cash", "cash-money-market-funds"),
        ("why do I hold inflation-protected Treasuries", "tips", None),
        ("why do I hold corporate bonds", "corporate_bonds", "corporate-bonds-credit-risk"),
    ],
)
def test_why_questions_find_the_asset_class_and_quote_its_role(funded, text, asset_class, slug):
    assert matching.holding_why_classes(text) == [asset_class]
    for composer in (answers.holdings, answers.education):  # the classifier may pick either
        reply = composer(ctx(funded, text))
        role = knowledge.role_passage(asset_class)
        assert role.text in reply.text
        assert reply.sources[0]["slug"] == role.slug == (slug or role.slug)


def test_a_why_answer_says_when_the_client_holds_none_of_the_class(funded):
    reply = answers.holdings(ctx(funded, "why does my portfolio hold gold?"))
    assert "don't hold gold" in reply.text
    assert knowledge.role_passage("gold").text in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "why do bond prices fall when rates rise",  # education, not about the client's holdings
        "what am I invested in",
        "why do people say don't put all your eggs in one basket",
    ],
)
def test_other_questions_are_not_taken_for_why_questions(text):
    assert matching.holding_why_classes(text) == []


def test_every_asset_class_has_a_role_passage_that_names_it():
    from portfolios.targets import UNIVERSE

    words = {
        "us_equity": "stock",
        "intl_developed_equity": "international",
        "emerging_equity": "emerging",
        "us_aggregate_bonds": "bond",
        "treasuries": "treasur",
        "tips": "tips",
        "corporate_bonds": "corporate",
        "real_estate": "real estate",
        "gold": "gold",
        "cash": "cash",
    }
    for asset_class in set(UNIVERSE.values()):
        assert words[asset_class] in knowledge.role_passage(asset_class).text.lower()


@pytest.mark.parametrize(
    "text",
    [
        "Why does my portfolio hold gold?",
        "why do I own bonds?",
        "why do I have TIPS?",
        "why do I own REITs",
        "why am I invested in emerging markets?",
        "why is there cash and gold in my account",
    ],
)
def test_why_answers_pass_the_compliance_check(gold_held, text):
    for intent in ("holdings", "education"):
        reply = answers.COMPOSERS[intent](ctx(gold_held, text))
        checked = compliance.reply_check(reply.text, intent=intent)
        assert checked.findings == ["disclaimer_added"]
        assert checked.text.startswith(reply.text)


# --- Drift, explained as the code computes it --------------------------------------------------

DRIFT_MEANS = "half the sum of the gaps between each asset class's actual and target weight"


def test_the_chat_explains_drift_as_computed_and_shows_the_summarys_figure(three_goals):
    from portfolios import selectors

    drifts = {
        a.goal.name: selectors.account_summary(account=a).drift for a in three_goals.accounts.all()
    }
    assert drifts["Retirement"] > 0  # the rally moved it

    for reply in (
        answers.rebalancing(ctx(three_goals, "when do you rebalance me")),
        answers.holdings(ctx(three_goals, "what am I invested in")),
    ):
        assert DRIFT_MEANS in reply.text
        assert "largest gap" not in reply.text
        for name, drift in drifts.items():
            assert f"{name} {answers.pct(drift, signed=False)}" in reply.text


def test_the_knowledge_base_defines_drift_as_the_code_does():
    articles = {a.slug: " ".join(a.paragraphs) for a in knowledge.articles()}
    assert "largest gap" not in articles["meridian-rebalancing"]
    assert "half the sum of the gaps" in articles["meridian-rebalancing"]
    assert "half the sum of the gaps" in articles["portfolio-drift"]


def test_risk_profile_states_and_explains_the_level(funded):
    reply = answers.risk_profile(ctx(funded, "what's my risk level"))
    profile = risk_profile_get(client=funded)
    assert f"risk level is {profile.assessment.risk_level} of 10" in reply.text
    assert reply.text.startswith(profile.client_explanation)  # the risk page's own words
    assert "willingness" in reply.text
    assert "capacity" in reply.text
    assert "worth an advisor" not in reply.text  # advisor wording never reaches the client


def test_change_risk_explains_how_and_warns_against_drawdown_moves(funded):
    reply = answers.change_risk(ctx(funded, "make me more conservative"))
    assert "retake the risk questionnaire" in reply.text
    assert "lock in" in reply.text


def test_deposit_withdraw_explains_limits_and_lists_recurring(funded):
    services.recurring_deposit_create(
        account=funded.accounts.get(), amount=Decimal("250.00"), day_of_month=3
    )
    reply = answers.deposit_withdraw(ctx(funded, "how do I add money monthly"))
    assert "$10,000,000" in reply.text
    assert "$250.00" in reply.text


def test_rebalancing_reports_drift_and_the_threshold(funded):
    reply = answers.rebalancing(ctx(funded, "when do you rebalance me"))
    assert "Drift today" in reply.text
    assert "3.0%" in reply.text


def test_fees_state_the_schedule(funded):
    reply = answers.fees(ctx(funded, "what do you charge"))
    assert "0.25%" in reply.text
    assert "no" in reply.text.lower()


def test_market_sentiment_without_news_says_so(funded):
    reply = answers.market_sentiment(ctx(funded, "any news on my funds"))
    assert "no recent scored news" in reply.text


def test_education_quotes_and_cites_an_article(funded, kb_index):
    reply = answers.education(ctx(funded, "what is dollar cost averaging", kb_index))
    assert reply.sources[0]["slug"] in {
        "dollar-cost-averaging",
        "lump-sum-vs-dollar-cost-averaging",
    }
    assert reply.sources[0]["title"] in reply.text


def test_talk_to_advisor_escalates_to_the_clients_advisor(funded):
    reply = answers.talk_to_advisor(ctx(funded, "get me a human"))
    assert "Ada Advisor" in reply.text
    assert reply.escalate == "requested"


def test_a_security_question_is_refused_then_a_follow_up_escalates(funded):
    first = answers.security_recommendation(ctx(funded, "should I buy Tesla"))
    again = answers.security_recommendation(
        ctx(funded, "ok but Nvidia?", previous=("security_recommendation",))
    )
    assert first.escalate is None
    assert again.escalate == "security_follow_up"
    for reply in (first, again):
        assert compliance.findings_of(reply.text) == []


def test_greeting_and_out_of_scope(funded):
    assert "Maya" in answers.greeting(ctx(funded, "hi")).text
    assert "outside what I can help" in answers.out_of_scope(ctx(funded, "weather?")).text


def test_every_intent_has_a_composer():
    assert set(answers.COMPOSERS) == set(INTENTS)


def test_a_client_without_accounts_gets_a_clear_answer_not_an_error(db):
    client = ClientFactory()
    for intent in ("account_balance", "holdings", "goal_progress", "risk_profile"):
        reply = answers.COMPOSERS[intent](ctx(client, "?"))
        assert reply.text
    why = answers.holdings(ctx(client, "why do I own gold?"))
    assert "don't hold gold yet" in why.text


# --- Compliance ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "You should buy Tesla before earnings.",
        "I'd recommend selling your Apple shares now.",
        "NVDA is a strong buy.",
        "This fund is guaranteed to return 8% a year.",
        "You can't lose with gold.",
    ],
)
def test_compliance_replaces_a_recommendation_or_a_promise(text):
    checked = compliance.reply_check(text, intent="education")
    assert checked.text.startswith(compliance.SAFE_REPLY)
    assert compliance.DISCLAIMER in checked.text
    assert set(checked.findings) - {"disclaimer_added"}


def test_compliance_adds_the_disclaimer_only_where_advice_is_touched():
    advice = compliance.reply_check("Your return this year is +4.0%.", intent="performance")
    balance = compliance.reply_check("Your accounts are worth $1,000.00.", intent="account_balance")
    assert compliance.DISCLAIMER in advice.text
    assert balance.findings == []
    assert compliance.DISCLAIMER not in balance.text


def test_negated_statements_are_not_flagged():
    assert compliance.findings_of("Past performance does not guarantee future results.") == []
    assert compliance.findings_of("Meridian never recommends buying single stocks.") == []


# --- Through the API, with the quick models served ----------------------------------------------


@pytest.fixture
def chat_api(served, funded, settings, tmp_path):
    settings.CHAT_CONFIDENCE_THRESHOLD = 0.0  # the --quick model is unsure of everything
    api = APIClient()
    api.force_authenticate(funded.user)
    return api


def test_a_question_gets_a_recorded_grounded_reply(chat_api, funded):
    response = chat_api.post("/api/v1/chat/messages/", {"text": "hello there"}, format="json")

    body = response.json()
    assert response.status_code == 200
    assert body["intent"] in INTENTS
    assert 0 <= body["confidence"] <= 1
    assert body["fallback"] is False
    conversation = Conversation.objects.get(pk=body["conversation"])
    turns = list(conversation.messages.values_list("role", "intent"))
    assert turns == [("client", ""), ("assistant", body["intent"])]
    reply = conversation.messages.get(role="assistant")
    assert reply.model_version is not None
    assert reply.latency_ms is not None


def test_the_history_shows_both_turns_and_the_clients_text_verbatim(chat_api):
    text = "<script>alert('x')</script> what's my balance"
    first = chat_api.post("/api/v1/chat/messages/", {"text": text}, format="json").json()
    chat_api.post(
        "/api/v1/chat/messages/",
        {"conversation": first["conversation"], "text": "thanks"},
        format="json",
    )

    history = chat_api.get(f"/api/v1/chat/conversations/{first['conversation']}/").json()

    assert [m["role"] for m in history["messages"]] == ["client", "assistant"] * 2
    assert history["messages"][0]["text"] == text  # stored as text; the app renders it as text


def test_bad_input_gets_field_errors(chat_api):
    empty = chat_api.post("/api/v1/chat/messages/", {"text": "   "}, format="json")
    long = chat_api.post("/api/v1/chat/messages/", {"text": "x" * 1001}, format="json")
    stranger = chat_api.post(
        "/api/v1/chat/messages/", {"conversation": 999999, "text": "hi"}, format="json"
    )
    assert empty.status_code == 400
    assert "text" in empty.json()["extra"]["fields"]
    assert long.status_code == 400
    assert stranger.status_code == 404


def test_no_client_can_read_anothers_conversation(chat_api, bold_answers):
    mine = chat_api.post("/api/v1/chat/messages/", {"text": "hi"}, format="json").json()
    other = APIClient()
    other.force_authenticate(ClientFactory().user)

    read = other.get(f"/api/v1/chat/conversations/{mine['conversation']}/")
    write = other.post(
        "/api/v1/chat/messages/",
        {"conversation": mine["conversation"], "text": "hi"},
        format="json",
    )
    listed = other.get("/api/v1/chat/conversations/").json()

    assert read.status_code == 404
    assert write.status_code == 404
    assert listed["count"] == 0


def test_an_advisor_resolves_an_escalation_and_the_client_sees_it(chat_api, funded):
    conversation = Conversation.objects.create(client=funded)
    escalation = chat_services.escalation_open(conversation=conversation, reason="requested")
    again = chat_services.escalation_open(conversation=conversation, reason="requested")
    assert again.pk == escalation.pk  # one open escalation per conversation

    chat_services.escalation_resolve(
        escalation=escalation, actor=funded.advisor, resolution="Called the client."
    )

    listed = chat_api.get("/api/v1/chat/escalations/").json()["results"]
    assert [(e["id"], e["status"]) for e in listed] == [(escalation.pk, "resolved")]
    escalation.refresh_from_db()
    assert escalation.resolved_by == funded.advisor


def test_twice_unsure_in_a_row_escalates(served, funded, settings):
    settings.CHAT_CONFIDENCE_THRESHOLD = 1.01  # everything is below it
    conversation = Conversation.objects.create(client=funded)
    for text in ("blorp", "flarn"):
        question = Message.objects.create(conversation=conversation, role="client", text=text)
        chat_services.answer(message_id=question.pk)

    replies = list(conversation.messages.filter(role="assistant"))
    assert answers.UNSURE in replies[0].text
    assert "asked your advisor" in replies[1].text
    assert Escalation.objects.get(conversation=conversation).reason == "low_confidence"


def test_answering_twice_records_one_reply(served, funded):
    conversation = Conversation.objects.create(client=funded)
    question = Message.objects.create(conversation=conversation, role="client", text="hi")

    first = chat_services.answer(message_id=question.pk)
    second = chat_services.answer(message_id=question.pk)

    assert first == second
    assert question.replies.count() == 1


def test_chat_intent_writes_one_json_object_per_line(served, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("what's my balance\nshould I buy TSLA\n"))
    out = io.StringIO()

    call_command("chat_intent", stdout=out)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 2
    assert all(line["intent"] in INTENTS and 0 <= line["confidence"] <= 1 for line in lines)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_with_the_worker_down_the_client_gets_a_holding_reply_and_the_answer_follows(
    served, funded, settings, through_broker
):
    settings.CHAT_WAIT_SECONDS = 0.5
    api = APIClient()
    api.force_authenticate(funded.user)
    # No ml worker is running: the request must not fail or hang.
    body = api.post("/api/v1/chat/messages/", {"text": "hi"}, format="json").json()
    assert body["fallback"] is True, body
    assert body["reply"] == chat_services.FALLBACK
    # The worker comes back and answers the queued question: nothing was lost.
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["chat"]):
        conversation = Conversation.objects.get(pk=body["conversation"])
        deadline = timezone.now() + timedelta(seconds=60)
        while timezone.now() < deadline:
            if conversation.messages.filter(role="assistant", fallback=False).exists():
                break
            time.sleep(0.2)
    answered = conversation.messages.get(role="assistant", fallback=False)
    assert answered.reply_to.text == "hi"


def test_a_failing_answer_is_recorded_and_the_client_still_gets_a_reply(
    chat_api, funded, monkeypatch
):
    def broken(ctx):
        raise ZeroDivisionError("a bug in a composer")

    monkeypatch.setattr(answers, "COMPOSERS", dict.fromkeys(INTENTS, broken))

    body = chat_api.post("/api/v1/chat/messages/", {"text": "balance?"}, format="json").json()

    assert body["reply"].startswith(chat_services.COMPOSER_FAILED)
    assert Message.objects.filter(pk=body["message_id"], role="assistant").exists()
