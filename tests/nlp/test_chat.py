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

from config.celery import app
from nlp.chat import answers, compliance, knowledge
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
    assert answers.period_parse("return last month") == "1M"
    assert answers.period_parse("ytd?") == "YTD"
    assert answers.period_parse("how am I doing") == "YTD"


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
    named = answers.goals_named(funded, "will we have enough for the flat?")
    assert named == [house]


def test_risk_profile_states_and_explains_the_level(funded):
    reply = answers.risk_profile(ctx(funded, "what's my risk level"))
    assert "risk level is" in reply.text
    assert "willingness" in reply.text
    assert "capacity" in reply.text


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
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["ml"]):
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
