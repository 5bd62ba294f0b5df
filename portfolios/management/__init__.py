"""Management commands of the portfolios app."""
