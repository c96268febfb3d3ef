"""Issue 15 item 6: the data dir is 0700 and the database files 0600 whatever the umask;
doctor warns about loose modes (and serve tightens them)."""

import os
import stat

from tests.conftest import Server, cli, register


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_private_modes_under_a_loose_umask(tmp_path):
    old = os.umask(0o002)  # children inherit it: the loosest common umask
    try:
        data = tmp_path / "data"
        out = cli(data, "init")
        assert out.returncode == 0, out.stderr
        assert mode(data) == 0o700 and mode(data / "halobuzz.db") == 0o600
        srv = Server(data).start()
        try:
            with srv.client() as c:
                register(c)
            for name in ("halobuzz.db", "halobuzz.db-wal", "halobuzz.db-shm"):
                assert mode(data / name) == 0o600, name
        finally:
            srv.stop()
        doctor = cli(data, "doctor")
        assert doctor.returncode == 0 and "file modes" in doctor.stdout and "WARN" not in doctor.stdout

        # an install left open to others: doctor warns (exit 0), the next start tightens it
        os.chmod(data, 0o755)
        os.chmod(data / "halobuzz.db", 0o644)
        doctor = cli(data, "doctor")
        assert doctor.returncode == 0, doctor.stdout
        assert "WARN" in doctor.stdout and "halobuzz.db is mode 0644" in doctor.stdout
        srv = Server(data).start()
        srv.stop()
        assert mode(data) == 0o700 and mode(data / "halobuzz.db") == 0o600
    finally:
        os.umask(old)
