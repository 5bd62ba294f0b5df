"""Tests of the views that serve the browser client."""
