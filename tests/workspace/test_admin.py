"""The Client pages of the advisor workspace: the book-scoped list, the audit trail, the tax id."""

import pytest

from advisor import risk, services

from ..factories import AdvisorFactory, ClientFactory, admin_login

pytestmark = pytest.mark.django_db


def test_an_advisor_logs_into_the_admin_and_sees_only_their_book(advisor, bold_answers):
    mine = ClientFactory(advisor=advisor, last_name="Mine")
    ClientFactory(advisor=AdvisorFactory(), last_name="Theirs")
    services.questionnaire_submit(client=mine, version=risk.CURRENT_VERSION, answers=bold_answers)

    page = admin_login(advisor).get("/admin/advisor/client/").content.decode()

    assert "Mine" in page
    assert "Theirs" not in page


def test_an_advisor_cannot_open_another_books_client(advisor):
    theirs = ClientFactory(advisor=AdvisorFactory())

    response = admin_login(advisor).get(f"/admin/advisor/client/{theirs.pk}/change/")

    assert response.status_code in (302, 404)
    assert theirs.last_name not in response.content.decode()


def test_the_client_page_shows_the_audit_trail_and_never_the_tax_id(advisor):
    client = ClientFactory(advisor=advisor)
    services.client_update(client=client, data={"tax_id": "900-55-4321", "city": "Springfield"})

    page = admin_login(advisor).get(f"/admin/advisor/client/{client.pk}/change/").content.decode()

    assert "Changes (newest first)" in page
    assert "city" in page
    assert "900-55" not in page
    assert "4321" in page  # the masked form shows the last four
