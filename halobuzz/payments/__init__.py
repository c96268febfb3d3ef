"""Coin purchases through eSewa, Khalti and Stripe, credited exactly once from verified sources.

Flow: checkout.py creates our order and asks the gateway how to redirect; the browser
returns (eSewa, Khalti) or Stripe posts a webhook; webhooks.py verifies it and calls
settle.py, the one write unit that credits (ledger key `credit:<gateway>:<gateway id>`),
fails, or claws back (refunds.py). reconcile.py re-asks the gateways about pending and
recently completed orders. halobuzz/simulators/ speak the same protocols on loopback.
Design and protocol facts: docs/payments.md (decisions) and the design note it cites.
"""
