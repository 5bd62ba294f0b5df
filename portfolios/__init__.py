"""The portfolio floor: assets, market data, allocation, accounts, ledger, rebalancing,
performance and goal projections' inputs."""
