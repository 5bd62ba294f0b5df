"""Signals the floors above advisor listen to, since advisor cannot call up to them."""

from django.dispatch import Signal

# Sent by `goal_delete` before the goal is deleted, inside its transaction (kwargs: goal). The
# portfolios app discards the goal's account if no money ever moved in it.
goal_deleting = Signal()
