"""The npm `socket.io-client` (installed into a temporary directory) on the same rooms: join with
an ack, chat, a gift committed over HTTP, and an automatic reconnect. Slow: it runs npm."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ADMIN_EMAIL, Server, cli, register
from tests.integration.rooms_client import live_stream
from tests.integration.test_rooms import cheapest_gift, grant, send_gift

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).parent / "js" / "sio_client.js"


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory):
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.fail("node and npm are needed (apt-get install nodejs npm)")
    where = tmp_path_factory.mktemp("npm")
    subprocess.run(
        ["npm", "install", "--prefix", str(where), "--no-audit", "--no-fund", "--silent", "socket.io-client@^4.8"],
        check=True,
        timeout=300,
    )
    return where / "node_modules"


def test_npm_socket_io_client(tmp_path, node_modules):
    srv = Server(tmp_path / "data").start()
    try:
        with srv.client() as client:
            boss = register(client, email=ADMIN_EMAIL, username="nodeadmin")
            assert cli(srv.data_dir, "user", "set-role", "nodeadmin", "admin").returncode == 0
            host, viewer = register(client), register(client)
            grant(client, boss, viewer)
            stream = live_stream(client, host)
            gift = cheapest_gift(client)
            steps = []
            with subprocess.Popen(
                ["node", str(SCRIPT), srv.url, viewer["accessToken"], stream["id"]],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={"NODE_PATH": str(node_modules), "PATH": "/usr/bin:/bin:/usr/local/bin"},
            ) as proc:
                try:
                    for line in proc.stdout:
                        step = json.loads(line)
                        steps.append(step)
                        if step["step"] == "send-gift":
                            send_gift(client, viewer, stream["id"], gift["id"])
                            proc.stdin.write("go\n")
                            proc.stdin.flush()
                    assert proc.wait(30) == 0, steps
                finally:
                    proc.kill()
        by = {s["step"]: s for s in steps}
        assert by["ready"]["userId"] == viewer["user"]["id"]
        joins = [s for s in steps if s["step"] == "joined"]
        assert len(joins) == 2 and all(j["event"] == "stream:state" and j["stream"] == stream["id"] for j in joins)
        assert by["chat"] == {"step": "chat", "ack": "ok", "echoed": "hello from node"}
        assert by["gift"]["giftId"] == gift["id"]
        assert by["gift-after-reconnect"]["giftId"] == gift["id"] and by["gift-after-reconnect"]["connects"] == 2
    finally:
        srv.stop()
