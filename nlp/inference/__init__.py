"""Predictors and numerical models; the only place (with nlp/training) that imports torch."""
