"""Meridian's test suite; it mirrors the apps."""
