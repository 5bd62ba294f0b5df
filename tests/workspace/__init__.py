"""Tests of the workspace app: the advisor back office (admin site, Client page, selectors)."""
