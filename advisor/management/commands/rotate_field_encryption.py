"""`manage.py rotate_field_encryption`: re-encrypt every client's tax id with the current key.

Rotation: prepend a new salt to FIELD_ENCRYPTION_SALTS (or set a new DJANGO_SECRET_KEY and keep
the old one in DJANGO_SECRET_KEY_FALLBACKS), deploy, run this command, then drop the old salt or
secret. The first salt with SECRET_KEY encrypts; every combination still decrypts until removed.
Safe to rerun: rows already under the current key are left alone.
"""

import logging
from typing import Any, cast

from cryptography.fernet import Fernet, InvalidToken
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from encrypted_fields.fields import EncryptedCharField

from advisor.models import Client

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Re-encrypt every Client.tax_id with the current (first) field-encryption key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        field = cast(EncryptedCharField, Client._meta.get_field("tax_id"))
        # The keys are cached on the field; drop them so they derive from the settings now.
        field.__dict__.pop("keys", None)
        field.__dict__.pop("f", None)
        current_key = Fernet(field.keys[0])

        rotated = current = 0
        undecryptable: list[int] = []
        last_pk = 0
        while True:
            with transaction.atomic():
                # Locked, so a concurrent profile edit cannot be overwritten with the old value.
                # The raw column (Cast skips the field's decryption) tells an unreadable token
                # apart from a value: the field itself hands back ciphertext it cannot decrypt.
                batch = list(
                    Client.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .values_list("pk", Cast("tax_id", output_field=TextField()))[:batch_size]
                )
                for pk, token in batch:
                    if not token:
                        continue
                    try:
                        current_key.decrypt(token.encode())
                    except InvalidToken:
                        pass
                    else:
                        current += 1
                        continue
                    try:
                        plain = field.f.decrypt(token.encode()).decode()
                    except InvalidToken:
                        undecryptable.append(pk)
                        continue
                    # update() encrypts with the first key and leaves updated_at and the
                    # audit trail alone: the value itself has not changed.
                    Client.objects.filter(pk=pk).update(tax_id=plain)
                    rotated += 1
            if len(batch) < batch_size:
                break
            last_pk = batch[-1][0]

        logger.info(
            "field encryption rotated",
            extra={"rotated": rotated, "current": current, "undecryptable": len(undecryptable)},
        )
        self.stdout.write(
            f"Re-encrypted {rotated} client tax ids; {current} already used the current key."
        )
        if undecryptable:
            shown = ", ".join(str(pk) for pk in undecryptable[:20])
            more = "…" if len(undecryptable) > 20 else ""
            raise CommandError(
                f"{len(undecryptable)} tax ids decrypt with none of the configured keys "
                f"(client ids {shown}{more}); they were left unchanged. Do not remove the old "
                "salt or secret until they are resolved."
            )
