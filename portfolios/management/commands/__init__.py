"""`load_market_data`, `seed_demo_portfolios`."""
