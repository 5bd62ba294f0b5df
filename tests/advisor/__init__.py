"""Tests of the advisor app."""
