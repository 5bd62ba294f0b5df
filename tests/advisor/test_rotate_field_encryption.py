"""Rotating the field-encryption key: tax ids stay readable once the old salt is gone."""

import io
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from advisor.models import Client, User

pytestmark = pytest.mark.django_db

TAX_ID = "123-45-6789"


def _keys_forget() -> None:
    # The field caches its derived keys (cached_property); they must follow the settings.
    field = Client._meta.get_field("tax_id")
    field.__dict__.pop("keys", None)
    field.__dict__.pop("f", None)


@pytest.fixture
def fresh_keys() -> Iterator[None]:
    _keys_forget()
    yield
    # Forget the test's keys so later tests derive them from the restored settings.
    _keys_forget()


def _raw_tax_id(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tax_id FROM advisor_client WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _client(email: str, tax_id: str) -> Client:
    user = User.objects.create_user(email=email, password="meridian-demo-2026")
    return Client.objects.create(user=user, tax_id=tax_id)


def _rotate() -> str:
    out = io.StringIO()
    call_command("rotate_field_encryption", stdout=out)
    return out.getvalue()


def test_tax_ids_still_decrypt_after_the_old_salt_is_removed(settings, fresh_keys) -> None:
    # given a tax id encrypted under the old salt
    old_salts = list(settings.SALT_KEY)
    client = _client("rotate@example.com", TAX_ID)
    old_token = _raw_tax_id(client.pk)

    # when a new salt is prepended and the command runs
    settings.SALT_KEY = ["new-salt", *old_salts]
    _keys_forget()
    output = _rotate()

    # then the value reads back with the new salt alone
    settings.SALT_KEY = ["new-salt"]
    _keys_forget()
    assert Client.objects.get(pk=client.pk).tax_id == TAX_ID
    raw = _raw_tax_id(client.pk)
    assert raw != old_token
    assert "6789" not in raw
    assert "Re-encrypted 1 client tax ids" in output


def test_a_rerun_leaves_current_and_empty_tax_ids_alone(fresh_keys) -> None:
    # given
    client = _client("current@example.com", TAX_ID)
    token = _raw_tax_id(client.pk)
    empty = _client("empty@example.com", "")

    # when
    output = _rotate()

    # then
    assert _raw_tax_id(client.pk) == token
    assert Client.objects.get(pk=empty.pk).tax_id in ("", None)
    assert "Re-encrypted 0 client tax ids; 1 already used the current key." in output


def test_it_refuses_to_touch_a_tax_id_no_key_can_decrypt(settings, fresh_keys) -> None:
    # given a tax id encrypted under a salt that is no longer configured
    settings.SALT_KEY = ["lost-salt"]
    _keys_forget()
    client = _client("lost@example.com", TAX_ID)
    token = _raw_tax_id(client.pk)
    settings.SALT_KEY = ["new-salt"]
    _keys_forget()

    # when / then
    with pytest.raises(CommandError, match=f"client ids {client.pk}"):
        _rotate()
    assert _raw_tax_id(client.pk) == token
