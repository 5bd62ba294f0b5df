"""Management commands of the advisor app."""
