"""Games: quiz, lottery, challenge and team battle, provably fair, paid through the ledger.

No Sanic here (house rule). Every round is a server-run state machine kept in SQLite
(`game_rounds`); clients only send intents (join, answer). Coins move only through the
double-entry ledger: stakes into a per-round escrow account, payout and house share in
one transaction, every movement keyed so it happens once.

Modules: fairness (commit–reveal draws), rates (the 35–55 % AI band, Wilson report),
compliance (country packs), escrow (ledger legs), rounds (table, proof, recovery),
quiz / lottery / challenge / battle (the four types), anticheat, service (async calls).
"""
