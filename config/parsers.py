"""The API's JSON parser: refuses oversized, over-deep and malformed bodies before they are
parsed, so no body, however built, reaches a view (or crashes the parser) as a 500."""

import json
import re
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers, status

# Generous for any form the API takes (its deepest is a questionnaire: object → object → list),
# small enough that no body can exhaust the parser's recursion.
MAX_DEPTH = 20
MAX_ITEMS = 2_000  # object keys and list items, all levels together
MAX_STRING = 10_000  # characters in any one string, keys included

_STRING = re.compile(rb'"(?:\\.|[^"\\])*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


class JSONNumber(float):
    """A JSON number with a fraction or exponent, as a float that keeps its text, so a money
    field can refuse `1e3` and read `100.10` exactly (`config.api.MoneyField`)."""

    text: str

    def __new__(cls, text: str) -> "JSONNumber":
        number = super().__new__(cls, text)
        number.text = text
        return number


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def _depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects, strings left out: counted on the raw bytes,
    because the parser itself recurses once per level."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', body)):
        depth += 1 if match.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def _check_size(data: Any) -> None:
    items, stack = 0, [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            items += len(value)
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            items += len(value)
            stack.extend(value)
        elif isinstance(value, str) and len(value) > MAX_STRING:
            raise exceptions.ParseError(
                f"JSON parse error - a string is over {MAX_STRING} characters."
            )
        if items > MAX_ITEMS:
            raise exceptions.ParseError(f"JSON parse error - over {MAX_ITEMS} keys and items.")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser reads the stream itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    check: apply the limit here, before a large body is read into memory; then bound nesting,
    item count and string length (each over the limit is a 400)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        meta = getattr(request, "META", {})
        try:
            length = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            raise RequestTooLarge()
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:  # a body longer than its Content-Length said
            raise RequestTooLarge()
        if _depth(body) > MAX_DEPTH:
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH}.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(
                body.decode(encoding), parse_float=JSONNumber, parse_constant=_no_constant
            )
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        _check_size(data)
        return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
