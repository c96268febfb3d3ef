"""Ledger account names: three buckets per user and the system accounts that make every coin traceable.

Per user:
  <user>:paid      coins bought (or granted); spendable, refundable, can go negative after a clawback
  <user>:bonus     OG daily bonus; spendable, never transferable, never anyone's earnings
  <user>:held      host earnings inside the chargeback hold window
  <user>:earnings  host earnings past the hold: withdrawable through a payout request

System (balances are the mirror image of what users hold, so the grand total is always 0):
"""

from __future__ import annotations

PAID, BONUS, HELD, EARNINGS = "paid", "bonus", "held", "earnings"
USER_BUCKETS = (PAID, BONUS, HELD, EARNINGS)

PAYMENT_MINT = "sys:payment_mint"  # coins created by verified payments
BONUS_ISSUER = "sys:bonus_issuer"  # OG daily bonus coins created
PLATFORM_FEE = "sys:platform_fee"  # the platform's cut of gifts
BONUS_BURN = "sys:bonus_burn"  # bonus coins spent (they never become earnings)
GAME_POOL = "sys:game_pool"  # stakes and prizes of games
CLAWBACK = "sys:clawback"  # coins taken back on refunds and chargebacks
ADMIN_ADJUST = "sys:admin_adjust"  # operator grants and revocations
OG_SALES = "sys:og_sales"  # coins spent on OG tiers
PAYOUTS_PENDING = "sys:payouts_pending"  # earnings requested for payout, awaiting approval
PAYOUTS_PAID = "sys:payouts_paid"  # earnings paid out (outside the appliance)
SYSTEM = (
    PAYMENT_MINT,
    BONUS_ISSUER,
    PLATFORM_FEE,
    BONUS_BURN,
    GAME_POOL,
    CLAWBACK,
    ADMIN_ADJUST,
    OG_SALES,
    PAYOUTS_PENDING,
    PAYOUTS_PAID,
)


def user_account(user_id: str, bucket: str) -> str:
    return f"{user_id}:{bucket}"


def split(account_id: str) -> tuple[str | None, str]:
    if account_id.startswith("sys:"):
        return None, "system"
    owner, _, bucket = account_id.rpartition(":")
    return owner, bucket
