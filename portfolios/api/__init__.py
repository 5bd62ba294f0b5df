"""The portfolios app's slice of /api/v1/, and HTTP idempotency for money-moving requests."""
