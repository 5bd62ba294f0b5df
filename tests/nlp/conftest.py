from ..portfolios.conftest import (  # noqa: F401 - shared fixtures
    account,
    approved_set,
    bold_client,
    market_data,
    market_day,
)
