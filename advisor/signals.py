"""Signals the floors above advisor listen to, since advisor cannot call up to them."""

from django.dispatch import Signal

# Sent before a goal is deleted or closed, inside that transaction (kwargs: goal, deleting).
# The portfolios app refuses (raises GoalNotEmpty) while the goal's account holds money; when
# deleting, it discards an account in which no money ever moved, and answers GOAL_HAS_HISTORY
# for one with transactions, whose goal is then closed instead: history is never deleted.
goal_closing = Signal()
GOAL_HAS_HISTORY = "history"

# Sent before a goal's account type changes, inside that transaction (kwargs: goal, account_type:
# the new type). The portfolios app refuses (raises ValidationError on `account_type`) once any
# money has moved in the goal's account: a taxable account cannot become an IRA, nor the reverse.
goal_account_type_changing = Signal()
