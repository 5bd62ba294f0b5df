"""The chat assistant: intents, grounded answers, the compliance check and escalations."""
