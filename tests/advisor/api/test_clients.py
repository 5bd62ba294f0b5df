"""The client profile API: KYC fields, validation, the masked tax id."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.db import connection

from advisor.models import Client

pytestmark = pytest.mark.django_db

KYC = {
    "first_name": "Jo",
    "last_name": "Rivera",
    "date_of_birth": "1985-04-12",
    "address_line1": "1 Example Street",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62701",
    "country": "US",
    "phone": "+12175550123",
    "tax_id": "900-12-3456",
    "employment_status": "employed",
    "occupation_category": "technology",
    "annual_income": "120000.00",
    "net_worth": "250000.00",
    "liquid_net_worth": "80000.00",
    "dependents": 1,
    "marital_status": "married",
    "education_level": "bachelors",
    "tax_filing_status": "married_joint",
    "investment_experience": "moderate",
    "objective": "growth",
    "time_horizon": "11_to_20",
    "liquidity_needs": "low",
}


def test_a_client_completes_kyc_and_gets_a_review_date(client_api):
    response = client_api.patch("/api/v1/clients/me/", KYC)

    body = response.json()
    assert response.status_code == 200, body
    assert body["kyc_complete"] is True
    assert body["kyc_review_due"]
    assert body["annual_income"] == "120000.00"


def test_the_tax_id_is_encrypted_at_rest_and_only_its_last_four_are_shown(client_api, client_user):
    client_api.patch("/api/v1/clients/me/", {"tax_id": "900-12-3456"})

    body = client_api.get("/api/v1/clients/me/").json()
    with connection.cursor() as cursor:
        cursor.execute("SELECT tax_id FROM advisor_client WHERE user_id = %s", [client_user.pk])
        stored = cursor.fetchone()[0]

    assert "tax_id" not in body
    assert body["tax_id_masked"].endswith("3456")
    assert "900-12" not in body["tax_id_masked"]
    assert "3456" not in stored
    assert Client.objects.get(user=client_user).tax_id == "900-12-3456"


def test_the_audit_trail_records_who_changed_what_but_masks_the_tax_id(client_api, client_user):
    client_api.patch("/api/v1/clients/me/", {"tax_id": "900-12-3456", "city": "Springfield"})

    entry = LogEntry.objects.get_for_object(Client.objects.get(user=client_user)).first()

    assert entry.actor == client_user
    assert entry.changes_dict["city"][1] == "Springfield"
    assert "900-12-3456" not in str(entry.changes)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("annual_income", "-1"),
        ("annual_income", "1e20"),
        ("annual_income", "abc"),
        ("dependents", 99),
        ("country", "USA"),
        ("phone", "555-1234"),
        ("employment_status", "astronaut"),
        ("date_of_birth", "2020-01-01"),
        ("date_of_birth", "1800-01-01"),
        ("first_name", "x" * 10_000),
        ("tax_id", "<script>"),
        ("kyc_review_due", "2030-01-01"),
    ],
)
def test_bad_profile_input_is_a_400_naming_the_field_and_changes_nothing(
    client_api, client_user, field, value
):
    before = Client.objects.get(user=client_user).updated_at

    response = client_api.patch("/api/v1/clients/me/", {"city": "Changed", field: value})

    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    client = Client.objects.get(user=client_user)
    assert client.city != "Changed"
    assert client.updated_at == before


def test_liquid_net_worth_cannot_exceed_net_worth(client_api):
    response = client_api.patch(
        "/api/v1/clients/me/", {"net_worth": "1000.00", "liquid_net_worth": "5000.00"}
    )

    assert response.status_code == 400
    assert "liquid_net_worth" in response.json()["extra"]["fields"]


def test_an_advisor_without_a_client_profile_gets_404_from_clients_me(advisor_api):
    assert advisor_api.get("/api/v1/clients/me/").status_code == 404


def test_money_is_returned_as_exact_decimal_strings(client_api, client_user):
    client_api.patch("/api/v1/clients/me/", {"net_worth": "1234567.89"})

    assert client_api.get("/api/v1/clients/me/").json()["net_worth"] == "1234567.89"
    assert Client.objects.get(user=client_user).net_worth == Decimal("1234567.89")


def _brand_new_client_api():
    from rest_framework.test import APIClient

    from advisor.services import user_register

    user = user_register(
        email="new.signup@example.com",
        password="correct-horse-battery-42",
        first_name="Jordan",
        last_name="Rivera",
    )
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_new_client_is_told_which_kyc_fields_are_missing_by_name():
    api = _brand_new_client_api()

    body = api.get("/api/v1/clients/me/").json()

    assert body["kyc_complete"] is False
    missing = {item["field"]: item["label"] for item in body["kyc_missing"]}
    assert missing["date_of_birth"] == "Date of birth"
    assert missing["country"] == "Country"
    assert missing["tax_id"] == "Tax ID (SSN or ITIN)"
    assert "first_name" not in missing  # given at sign-up


def test_kyc_missing_names_exactly_the_field_that_keeps_kyc_incomplete():
    api = _brand_new_client_api()

    body = api.patch("/api/v1/clients/me/", {k: v for k, v in KYC.items() if k != "country"}).json()

    assert body["kyc_complete"] is False
    assert body["kyc_missing"] == [{"field": "country", "label": "Country"}]


def test_a_new_client_who_leaves_pre_filled_fields_as_they_are_completes_kyc():
    # given: a sign-up; the form pre-fills the names from sign-up and country "US", and now
    # sends the pre-filled country with everything the client typed (not the names: unchanged)
    api = _brand_new_client_api()
    typed = {k: v for k, v in KYC.items() if k not in ("first_name", "last_name")}

    # when
    body = api.patch("/api/v1/clients/me/", typed).json()

    # then
    assert body["kyc_complete"] is True, body["kyc_missing"]
    assert body["kyc_missing"] == []
    assert body["country"] == "US"
    assert api.get("/api/v1/clients/me/").json()["kyc_complete"] is True
