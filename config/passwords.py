"""Password rules beyond Django's: a password must have something in it besides whitespace."""

from typing import Any

from django.core.exceptions import ValidationError


class NotBlankValidator:
    """Ten spaces pass the length rule and no common-password list holds them; refuse any
    password made only of whitespace."""

    def validate(self, password: str, user: Any = None) -> None:
        if not password.strip():
            raise ValidationError(
                "Your password cannot be only spaces.", code="password_only_whitespace"
            )

    def get_help_text(self) -> str:
        return "Your password cannot be only spaces."
