import pytest

from halobuzz.db import migrate
from halobuzz.db.connection import connect


def test_applies_all_once_and_records(tmp_path):
    conn = connect(tmp_path / "m.db")
    first = migrate.migrate(conn)
    assert [m.version for m in first] == [m.version for m in migrate.available()]
    assert migrate.migrate(conn) == []
    assert migrate.current_version(conn) == migrate.available()[-1].version
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_refuses_database_from_newer_version(tmp_path):
    conn = connect(tmp_path / "m.db")
    migrate.migrate(conn)
    conn.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 'x', '2030-01-01')")
    with pytest.raises(migrate.MigrationError, match="newer than this build"):
        migrate.pending(conn)


def test_detects_edited_shipped_migration(tmp_path):
    conn = connect(tmp_path / "m.db")
    migrate.migrate(conn)
    conn.execute("UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1")
    with pytest.raises(migrate.MigrationError, match="edited after it was applied"):
        migrate.pending(conn)


def test_refuses_a_pending_migration_older_than_applied(tmp_path):
    conn = connect(tmp_path / "m.db")
    migrate.migrate(conn)
    conn.execute("DELETE FROM schema_migrations WHERE version = 2")
    with pytest.raises(migrate.MigrationError, match="older than the newest applied"):
        migrate.pending(conn)
