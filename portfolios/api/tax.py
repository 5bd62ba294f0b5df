"""Routes and views of the portfolios API's tax endpoints (see the tax issue, #15)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
