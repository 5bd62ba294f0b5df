"""`manage.py seed_demo`: an admin, an advisor and three demo clients with KYC, risk answers, goals.

Idempotent: users are keyed on email and a client that already exists is left alone, so a
second run changes nothing. Every person, address, phone number and tax id here is fictional.

Demo only: it refuses to run unless the settings allow demo data (DEMO_DATA_ALLOWED: on in the
local and test settings, off in production). The demo clients and advisor share a published
password; the admin gets a random one, printed once when it is created (or `--admin-password`).
"""

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from auditlog.context import set_actor
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from advisor import risk, services
from advisor.models import Client, Goal, User

ADMIN_EMAIL = "admin@meridian.example"
ADVISOR_EMAIL = "advisor@meridian.example"
DEMO_PASSWORD = "meridian-demo-2026"  # noqa: S105 - demo login, printed on purpose


@dataclass(frozen=True)
class DemoGoal:
    goal_type: str
    name: str
    target_amount: Decimal
    years_from_now: int
    priority: str
    initial_amount: Decimal = Decimal("0.00")
    monthly_contribution: Decimal = Decimal("0.00")
    account_type: str = Goal.AccountType.TAXABLE


@dataclass(frozen=True)
class DemoClient:
    email: str
    persona: str
    profile: dict[str, Any]
    answers: dict[str, str]
    goals: tuple[DemoGoal, ...]


DEMO_CLIENTS = (
    DemoClient(
        email="maya@meridian.example",
        persona="young tech worker, aggressive, long horizon",
        profile={
            "first_name": "Maya",
            "last_name": "Chen",
            "date_of_birth": date(1997, 3, 14),
            "address_line1": "2187 Juniper Lane",
            "address_line2": "Apt 4C",
            "city": "San Francisco",
            "region": "CA",
            "postal_code": "94110",
            "country": "US",
            "phone": "+14155550123",
            "tax_id": "900-00-1234",
            "employment_status": Client.EmploymentStatus.EMPLOYED,
            "occupation_category": Client.OccupationCategory.TECHNOLOGY,
            "annual_income": Decimal("145000.00"),
            "net_worth": Decimal("185000.00"),
            "liquid_net_worth": Decimal("92000.00"),
            "dependents": 0,
            "marital_status": Client.MaritalStatus.SINGLE,
            "education_level": Client.EducationLevel.BACHELORS,
            "tax_filing_status": Client.TaxFilingStatus.SINGLE,
            "investment_experience": Client.InvestmentExperience.MODERATE,
            "objective": Client.Objective.AGGRESSIVE_GROWTH,
            "time_horizon": Client.TimeHorizon.OVER_20,
            "liquidity_needs": Client.LiquidityNeeds.LOW,
            "harvest_auto": True,  # opted in: her tax-loss harvests execute as proposed
        },
        answers={
            "scf_willingness": "substantial",
            "loss_reaction": "buy_more",
            "portfolio_choice": "high_growth",
            "risk_attitude": "opportunity",
            "prize_choice": "chance_25_10000",
            "time_horizon": "over_20",
            "income_stability": "very_stable",
            "emergency_reserves": "3_to_5",
            "dependents": "none",
            "loss_impact": "minor",
            "debt_burden": "under_20",
        },
        goals=(
            DemoGoal(
                goal_type=Goal.GoalType.RETIREMENT,
                name="Retire at 60",
                target_amount=Decimal("900000.00"),
                years_from_now=31,
                priority=Goal.Priority.NEED,
                initial_amount=Decimal("60000.00"),
                monthly_contribution=Decimal("1500.00"),
            ),
            DemoGoal(
                goal_type=Goal.GoalType.HOME_PURCHASE,
                name="Down payment on a condo",
                target_amount=Decimal("150000.00"),
                years_from_now=5,
                priority=Goal.Priority.WANT,
                initial_amount=Decimal("40000.00"),
                monthly_contribution=Decimal("1800.00"),
            ),
            DemoGoal(
                goal_type=Goal.GoalType.MAJOR_PURCHASE,
                name="Sabbatical year abroad",
                target_amount=Decimal("30000.00"),
                years_from_now=4,
                priority=Goal.Priority.WISH,
                monthly_contribution=Decimal("400.00"),
            ),
            DemoGoal(
                goal_type=Goal.GoalType.RETIREMENT,
                name="Roth IRA",
                target_amount=Decimal("250000.00"),
                years_from_now=35,
                priority=Goal.Priority.WANT,
                # Within the IRA limit of each year the demo history deposits in.
                initial_amount=Decimal("3000.00"),
                monthly_contribution=Decimal("250.00"),
                account_type=Goal.AccountType.ROTH_IRA,
            ),
        ),
    ),
    DemoClient(
        email="daniel@meridian.example",
        persona="mid-career family, two dependents, moderate",
        profile={
            "first_name": "Daniel",
            "last_name": "Okafor",
            "date_of_birth": date(1984, 9, 2),
            "address_line1": "58 Maple Hollow Road",
            "city": "Columbus",
            "region": "OH",
            "postal_code": "43215",
            "country": "US",
            "phone": "+16145550147",
            "tax_id": "900-00-5678",
            "employment_status": Client.EmploymentStatus.EMPLOYED,
            "occupation_category": Client.OccupationCategory.MANAGEMENT,
            "annual_income": Decimal("118000.00"),
            "net_worth": Decimal("340000.00"),
            "liquid_net_worth": Decimal("45000.00"),
            "dependents": 2,
            "marital_status": Client.MaritalStatus.MARRIED,
            "education_level": Client.EducationLevel.GRADUATE,
            "tax_filing_status": Client.TaxFilingStatus.MARRIED_JOINT,
            "investment_experience": Client.InvestmentExperience.LIMITED,
            "objective": Client.Objective.BALANCED,
            "time_horizon": Client.TimeHorizon.FROM_11_TO_20,
            "liquidity_needs": Client.LiquidityNeeds.MEDIUM,
        },
        # Says "above average" risk but would sell everything after a 20% fall: the demo's one
        # inconsistency flag, so advisors see what a flagged client looks like.
        answers={
            "scf_willingness": "above_average",
            "loss_reaction": "sell_all",
            "portfolio_choice": "moderate",
            "risk_attitude": "uncertainty",
            "prize_choice": "chance_50_5000",
            "time_horizon": "11_to_20",
            "income_stability": "fairly_stable",
            "emergency_reserves": "3_to_5",
            "dependents": "two",
            "loss_impact": "significant",
            "debt_burden": "20_to_40",
        },
        goals=(
            DemoGoal(
                goal_type=Goal.GoalType.EMERGENCY_FUND,
                name="Six months of expenses",
                target_amount=Decimal("36000.00"),
                years_from_now=1,
                priority=Goal.Priority.NEED,
                initial_amount=Decimal("18000.00"),
                monthly_contribution=Decimal("1500.00"),
            ),
            DemoGoal(
                goal_type=Goal.GoalType.EDUCATION,
                name="College for the kids",
                target_amount=Decimal("140000.00"),
                years_from_now=10,
                priority=Goal.Priority.WANT,
                initial_amount=Decimal("22000.00"),
                monthly_contribution=Decimal("900.00"),
            ),
            DemoGoal(
                goal_type=Goal.GoalType.RETIREMENT,
                name="Retirement",
                target_amount=Decimal("650000.00"),
                years_from_now=22,
                priority=Goal.Priority.NEED,
                initial_amount=Decimal("210000.00"),
                monthly_contribution=Decimal("1200.00"),
            ),
        ),
    ),
    DemoClient(
        email="ruth@meridian.example",
        persona="near retirement, conservative",
        profile={
            "first_name": "Ruth",
            "last_name": "Alvarez",
            "date_of_birth": date(1962, 6, 21),
            "address_line1": "905 Cedar Bluff Drive",
            "city": "Asheville",
            "region": "NC",
            "postal_code": "28801",
            "country": "US",
            "phone": "+18285550162",
            "tax_id": "900-00-9012",
            "employment_status": Client.EmploymentStatus.EMPLOYED,
            "occupation_category": Client.OccupationCategory.EDUCATION,
            "annual_income": Decimal("72000.00"),
            "net_worth": Decimal("910000.00"),
            "liquid_net_worth": Decimal("310000.00"),
            "dependents": 0,
            "marital_status": Client.MaritalStatus.WIDOWED,
            "education_level": Client.EducationLevel.GRADUATE,
            "tax_filing_status": Client.TaxFilingStatus.SINGLE,
            "investment_experience": Client.InvestmentExperience.EXTENSIVE,
            "objective": Client.Objective.CAPITAL_PRESERVATION,
            "time_horizon": Client.TimeHorizon.FROM_3_TO_5,
            "liquidity_needs": Client.LiquidityNeeds.HIGH,
        },
        answers={
            "scf_willingness": "average",
            "loss_reaction": "sell_some",
            "portfolio_choice": "capital_stable",
            "risk_attitude": "loss",
            "prize_choice": "sure_1000",
            "time_horizon": "3_to_5",
            "income_stability": "fairly_stable",
            "emergency_reserves": "6_or_more",
            "dependents": "none",
            "loss_impact": "significant",
            "debt_burden": "none",
        },
        goals=(
            DemoGoal(
                goal_type=Goal.GoalType.MAJOR_PURCHASE,
                name="Kitchen renovation",
                target_amount=Decimal("40000.00"),
                years_from_now=1,
                priority=Goal.Priority.WANT,
                initial_amount=Decimal("25000.00"),
                monthly_contribution=Decimal("800.00"),
            ),
            DemoGoal(
                goal_type=Goal.GoalType.RETIREMENT,
                name="Retirement income",
                target_amount=Decimal("850000.00"),
                years_from_now=2,
                priority=Goal.Priority.NEED,
                initial_amount=Decimal("850000.00"),
                monthly_contribution=Decimal("2000.00"),
            ),
            DemoGoal(
                goal_type=Goal.GoalType.EDUCATION,
                name="Grandchildren's education gift",
                target_amount=Decimal("28000.00"),
                years_from_now=8,
                priority=Goal.Priority.WISH,
                initial_amount=Decimal("5000.00"),
                monthly_contribution=Decimal("250.00"),
            ),
        ),
    ),
)


def _years_from(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class Command(BaseCommand):
    help = "Load demo logins and clients (idempotent: existing users are left untouched)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--admin-password",
            help="the demo admin's password when it is created (default: a random one, printed)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "seed_demo creates demo logins with published passwords: it refuses to run with "
                "these settings (DEMO_DATA_ALLOWED is off, as in production). Create real staff "
                "with `python manage.py createsuperuser`."
            )
        admin_password = options.get("admin_password") or secrets.token_urlsafe(12)
        with transaction.atomic():
            admin, admin_created = self._admin_ensure(admin_password)
            # Every write below is logged with the admin as actor, so the trail says who seeded.
            with set_actor(admin):
                advisor, advisor_created = self._advisor_ensure()
                clients_created = [self._client_seed(demo, advisor) for demo in DEMO_CLIENTS]

        def state(created: bool) -> str:
            return "created" if created else "already present"

        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins (demo only):"))
        if admin_created:
            self.stdout.write(
                f"  admin    {ADMIN_EMAIL} / {admin_password} (created; shown only now)"
            )
        else:
            self.stdout.write(f"  admin    {ADMIN_EMAIL} (already present; password unchanged)")
        self.stdout.write(
            f"  advisor  {ADVISOR_EMAIL} / {DEMO_PASSWORD} ({state(advisor_created)})"
        )
        for demo, created in zip(DEMO_CLIENTS, clients_created, strict=True):
            self.stdout.write(
                f"  client   {demo.email} / {DEMO_PASSWORD} - {demo.persona} ({state(created)})"
            )
        if not settings.MFA_REQUIRED_FOR_STAFF:
            self.stdout.write(
                self.style.WARNING(
                    "  MFA_REQUIRED_FOR_STAFF is off (demo default): the advisor and admin sign in "
                    "with a password only. Production requires an authenticator code for staff."
                )
            )

    def _admin_ensure(self, password: str) -> tuple[User, bool]:
        admin = User.objects.filter(email__iexact=ADMIN_EMAIL).first()
        if admin is not None:
            return admin, False
        admin = User.objects.create_superuser(
            email=ADMIN_EMAIL, password=password, first_name="Meridian", last_name="Admin"
        )
        return admin, True

    def _advisor_ensure(self) -> tuple[User, bool]:
        advisor = User.objects.filter(email__iexact=ADVISOR_EMAIL).first()
        if advisor is None:
            advisor = services.advisor_create(
                email=ADVISOR_EMAIL, password=DEMO_PASSWORD, first_name="Alex", last_name="Morgan"
            )
            return advisor, True
        if not advisor.is_staff:
            raise CommandError(f"{ADVISOR_EMAIL} exists but is not staff; cannot seed its book.")
        return advisor, False

    def _client_seed(self, demo: DemoClient, advisor: User) -> bool:
        """Create one demo client end to end; False if their login already exists."""
        if User.objects.filter(email__iexact=demo.email).exists():
            return False
        user = services.user_register(
            email=demo.email,
            password=DEMO_PASSWORD,
            first_name=demo.profile["first_name"],
            last_name=demo.profile["last_name"],
        )
        if user is None:  # registered between the check above and now
            return False
        client = services.client_assign_advisor(client=user.client, advisor=advisor)
        client = services.client_update(client=client, data=demo.profile)
        services.questionnaire_submit(
            client=client, version=risk.CURRENT_VERSION, answers=demo.answers
        )
        today = timezone.localdate()
        for goal in demo.goals:
            services.goal_create(
                client=client,
                goal_type=goal.goal_type,
                name=goal.name,
                target_amount=goal.target_amount,
                target_date=_years_from(today, goal.years_from_now),
                initial_amount=goal.initial_amount,
                monthly_contribution=goal.monthly_contribution,
                priority=goal.priority,
                account_type=goal.account_type,
            )
        return True
