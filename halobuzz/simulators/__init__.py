"""Local gateway simulators (eSewa ePay v2, Khalti KPG-2, Stripe Checkout + webhooks).

They speak the documented protocols — same fields, signatures, statuses, error shapes,
the Stripe-Signature header and webhook retries — on loopback, so an operator can try
the whole purchase flow offline (`halobuzz dev gateways`) and the tests use the same
code. Control endpoints under /_sim/ play the customer and the gateway's back office.
"""
