"""Issue 15 item 10: a SIGTERM sent the instant the server first answers /healthz starts the
graceful stop every time (exit 0, stop listeners run), never aborts start-up or is ignored."""

import signal
import subprocess

import pytest

from tests.conftest import Server


def sigterm_right_after_healthz(tmp_path, tries: int) -> list:
    outcomes = []
    for i in range(tries):
        srv = Server(tmp_path / f"data{i}").start()
        srv.proc.send_signal(signal.SIGTERM)
        try:
            code = srv.proc.wait(20)
        except subprocess.TimeoutExpired:
            code = "ignored"
            srv.proc.kill()
            srv.proc.wait()
        srv.log.close()
        log = srv.log_path.read_text()
        # the two ways it went wrong before: start-up aborted by the loop stopping under it, or the
        # signal swallowed (then the process had to be killed: code "ignored")
        aborted = "Event loop stopped before Future completed" in log
        outcomes.append((code, aborted))
        if code != 0 or aborted:
            print(f"--- try {i}: exit {code}\n{log[-4000:]}")
    return outcomes


def test_sigterm_at_first_healthz_stops_gracefully(tmp_path):
    assert sigterm_right_after_healthz(tmp_path, 3) == [(0, False)] * 3


@pytest.mark.slow
def test_sigterm_at_first_healthz_stops_gracefully_in_a_loop(tmp_path):
    # Before the fix: 1 in 5-6 tries kept serving, most others aborted start-up with exit 1.
    assert sigterm_right_after_healthz(tmp_path, 25) == [(0, False)] * 25
