"""<data>/serve.port: written private, read only while its process lives, removed only by its owner."""

from __future__ import annotations

import os
import subprocess
import sys

from halobuzz.cli import serve_file


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_written_private_and_read_back(tmp_path):
    serve_file.write(tmp_path, "0.0.0.0", 8123, os.getpid())
    path = tmp_path / serve_file.NAME
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text() == f"pid={os.getpid()}\nhost=0.0.0.0\nport=8123\n"
    found = serve_file.read(tmp_path)
    assert found == serve_file.Serving(os.getpid(), "0.0.0.0", 8123) and found.local_host == "127.0.0.1"
    assert serve_file.Serving(1, "::", 1).local_host == "::1"
    assert serve_file.Serving(1, "10.0.0.5", 1).local_host == "10.0.0.5"


def test_left_behind_by_a_dead_server_is_ignored(tmp_path):
    serve_file.write(tmp_path, "127.0.0.1", 8123, dead_pid())
    assert serve_file.read(tmp_path) is None


def test_missing_or_garbled_reads_as_nothing(tmp_path):
    assert serve_file.read(tmp_path) is None
    (tmp_path / serve_file.NAME).write_text("port=eighty\n")
    assert serve_file.read(tmp_path) is None


def test_only_the_owner_removes_it(tmp_path):
    serve_file.write(tmp_path, "127.0.0.1", 8123, os.getpid())
    serve_file.remove(tmp_path, os.getpid() + 1)  # another server on the same data dir
    assert (tmp_path / serve_file.NAME).exists()
    serve_file.remove(tmp_path, os.getpid())
    assert not (tmp_path / serve_file.NAME).exists()
    serve_file.remove(tmp_path, os.getpid())  # already gone: fine
