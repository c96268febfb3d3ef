from tests.unit.games.conftest import world  # noqa: F401  (the games World on a real SQLite file)
