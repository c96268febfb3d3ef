"""Accounts: users, roles, sessions and tokens, and the admin audit log."""
