"""The assistant's intents (torch-free: the web side validates and labels with these)."""

INTENTS: tuple[str, ...] = (
    "greeting",
    "account_balance",
    "performance",
    "holdings",
    "goal_progress",
    "risk_profile",
    "change_risk",
    "deposit_withdraw",
    "rebalancing",
    "fees",
    "market_sentiment",
    "education",
    "talk_to_advisor",
    "security_recommendation",
    "out_of_scope",
)
