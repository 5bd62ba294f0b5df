"""Tests of the advisor app's API."""
