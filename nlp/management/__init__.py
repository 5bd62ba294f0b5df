"""Management commands of the nlp app."""
