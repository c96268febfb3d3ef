"""Coins: the double-entry ledger, wallets, holds, payouts, spend caps."""
