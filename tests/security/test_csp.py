"""Issue 13, finding 9: there was no Content-Security-Policy. Every page now carries one that
allows only this origin's scripts and styles, no inline code, no framing; the pages we serve
(the browser client, the admin workspace, the API docs) are built to it, and the end-to-end
run in Chromium (frontend/e2e) fails on any console error, a CSP violation included."""

import re

import pytest
from django.test import Client as BrowserClient

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (d.split() for d in header.split(";") if d.strip())}


@pytest.mark.parametrize("path", ["/", "/admin/login/", "/api/docs/", "/api/v1/auth/me/"])
def test_every_page_carries_a_strict_policy(path):
    response = BrowserClient().get(path)
    rules = policy(response)
    assert rules["default-src"] == ["'self'"]
    assert rules["script-src"] == ["'self'"]
    assert rules["style-src"] == ["'self'"]
    assert rules["frame-ancestors"] == ["'none'"]
    assert rules["object-src"] == ["'none'"]


def test_the_workspace_and_docs_pages_have_no_inline_script_or_style(advisor_user):
    browser = BrowserClient()
    browser.force_login(advisor_user)
    for path in ("/admin/", "/api/docs/"):
        html = browser.get(path).content.decode()
        assert not re.search(r"<style[\s>]", html), path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html), path
