"""OG tiers 1-5: paid with coins, a daily bonus, exclusive gifts and chat privileges."""
