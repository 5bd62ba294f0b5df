"""Issue 14: native apps revalidate the summary and lists with ETag / If-None-Match instead of
downloading them again (Django's ConditionalGetMiddleware: the ETag hashes the body)."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/api/v1/portfolio/summary/", "/api/v1/accounts/", "/api/v1/goals/"]
)
def test_an_unchanged_resource_answers_304_to_its_etag(account, path):
    api = APIClient()
    api.force_authenticate(account.client.user)

    first = api.get(path)
    etag = first["ETag"]
    again = api.get(path, HTTP_IF_NONE_MATCH=etag)

    assert first.status_code == 200
    assert again.status_code == 304
    assert again.content == b""


def test_a_change_gives_a_new_etag(account):
    from decimal import Decimal

    from portfolios import services

    api = APIClient()
    api.force_authenticate(account.client.user)
    etag = api.get("/api/v1/accounts/")["ETag"]

    services.deposit_make(account=account, amount=Decimal("100.00"))

    changed = api.get("/api/v1/accounts/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
