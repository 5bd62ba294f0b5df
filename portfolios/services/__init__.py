"""Writes of the portfolio domain, one module per subdomain: the ledger, cash flows (deposits and
withdrawals), IRA contribution limits, tax-loss harvests, client documents (statements and tax
reports), dividends (fund distributions paid as cash), advisory fees and fees owed,
rebalancing, recurring deposits, model portfolios and the ledger's daily reconciliation.

The public services are re-exported here, so callers say `services.deposit_make(...)`; reads live
in `portfolios.selectors` and `portfolios.valuation`."""

from .cash_flows import CashFlowResult, deposit_make, withdrawal_make
from .distributions import dividend_pay, dividends_pay
from .documents import (
    document_generate,
    statement_generate,
    statements_generate_month,
    tax_report_generate,
    tax_reports_generate_year,
)
from .fees import fee_charge, fees_bill
from .fees_owed import fees_owed_collect
from .governance import governance_report_build, governance_report_build_for
from .harvesting import harvest_decide, harvest_propose, switch_back_propose, tax_harvests_refresh
from .ira import ira_contributed, ira_limit, ira_room
from .ledger import account_open
from .model_portfolios import allocation_refresh, model_portfolio_set_decide
from .rebalancing import rebalance_decide, rebalance_proposals_refresh, rebalance_propose
from .reconciliation import ledger_reconcile
from .recurring import (
    recurring_deposit_cancel,
    recurring_deposit_create,
    recurring_deposit_pause,
    recurring_deposits_run,
)
from .risk import risk_figures_compute, stress_caps_apply

__all__ = [
    "CashFlowResult",
    "account_open",
    "allocation_refresh",
    "deposit_make",
    "dividend_pay",
    "dividends_pay",
    "document_generate",
    "governance_report_build",
    "governance_report_build_for",
    "harvest_decide",
    "harvest_propose",
    "ira_contributed",
    "ira_limit",
    "ira_room",
    "statement_generate",
    "statements_generate_month",
    "switch_back_propose",
    "tax_harvests_refresh",
    "tax_report_generate",
    "tax_reports_generate_year",
    "fee_charge",
    "fees_bill",
    "fees_owed_collect",
    "ledger_reconcile",
    "model_portfolio_set_decide",
    "rebalance_decide",
    "rebalance_propose",
    "rebalance_proposals_refresh",
    "recurring_deposit_cancel",
    "recurring_deposit_create",
    "recurring_deposit_pause",
    "recurring_deposits_run",
    "risk_figures_compute",
    "stress_caps_apply",
    "withdrawal_make",
]
