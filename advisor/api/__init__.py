"""The advisor app's slice of /api/v1/: auth, clients, questionnaire, risk profile, goals."""
