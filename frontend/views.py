from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def index(request: HttpRequest) -> HttpResponse:
    """Placeholder until the single-page app lands (issue: browser client)."""
    return render(request, "frontend/index.html")
