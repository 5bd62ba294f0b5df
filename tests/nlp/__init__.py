"""Tests of the nlp app."""
