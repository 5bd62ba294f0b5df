"""Database sessions that refuse malformed session keys before they reach the database.

A cookie such as `sessionid=\\x00…` would otherwise reach PostgreSQL, which rejects NUL bytes in
text with an error (a 500). Django's own keys are 32 lowercase letters and digits.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return (
            bool(key)
            and 8 <= len(key or "") <= 40
            and (key or "").isascii()
            and (key or "").isalnum()
        )
