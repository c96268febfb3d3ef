"""The money flows (gifts, OG tiers, payouts, operator grants, their jobs) as async calls over
the writer: above wallet/, gifts/ and og/, which hold the rules and know nothing of it."""
