"""A client generated from /docs/openapi.json by openapi-python-client (a standard generator; no
code of ours) registers, logs in, goes live, sends a gift and reads the wallet."""

import shutil
import subprocess
import sys
import uuid

import httpx
import pytest

from tests.conftest import Server, cli


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("gen") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def generated(server, tmp_path_factory):
    exe = shutil.which("openapi-python-client")
    if exe is None:
        pytest.fail("openapi-python-client is not installed (pip install -e '.[test]')")
    where = tmp_path_factory.mktemp("client")
    spec = where / "openapi.json"
    spec.write_bytes(httpx.get(server.url + "/docs/openapi.json", timeout=60).content)
    (where / "config.yaml").write_text("post_hooks: []\npackage_name_override: halobuzz_client\n")
    run = subprocess.run(
        [
            exe,
            "generate",
            "--path",
            str(spec),
            "--config",
            str(where / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(where / "halobuzz_client"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(where))
    try:
        import halobuzz_client

        yield halobuzz_client
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == "halobuzz_client" or m.startswith("halobuzz_client.")]:
            del sys.modules[name]


def test_generated_client_registers_logs_in_sends_a_gift_and_reads_the_wallet(server, generated):
    from halobuzz_client import AuthenticatedClient, Client
    from halobuzz_client.api.accounts import get_me, post_auth_login, post_auth_register
    from halobuzz_client.api.money import get_gifts, get_wallet, post_streams_stream_id_gifts
    from halobuzz_client.api.streams import post_streams, post_streams_stream_id_start
    from halobuzz_client.models import (
        AuthResult,
        CreateBody,
        ErrorEnvelope,
        GiftBody,
        GiftSent,
        LoginBody,
        RegisterBody,
        Stream,
        Wallet,
    )

    # the generated clients own httpx clients: each is closed by its `with`
    with Client(base_url=server.url) as anon:
        host, viewer, login = _sign_up_and_log_in(
            anon, post_auth_register, post_auth_login, AuthResult, ErrorEnvelope, LoginBody, RegisterBody
        )
        with (
            AuthenticatedClient(base_url=server.url, token=login.access_token) as me,
            AuthenticatedClient(base_url=server.url, token=host.access_token) as studio,
        ):
            assert get_me.sync(client=me).id == viewer.user.id
            assert (
                cli(
                    server.data_dir,
                    "coins",
                    "grant",
                    "--user",
                    viewer.user.id,
                    "--amount",
                    "500",
                    "--reason",
                    "generated client test",
                ).returncode
                == 0
            )
            created = post_streams.sync(client=studio, body=CreateBody(title="made by a generated client"))
            assert isinstance(created, Stream) and created.status == "pending"
            live = post_streams_stream_id_start.sync(stream_id=created.id, client=studio)
            assert isinstance(live, Stream) and live.status == "live"
            gift = min((g for g in get_gifts.sync(client=anon).items if not g.og_exclusive), key=lambda g: g.price)
            sent = post_streams_stream_id_gifts.sync(
                stream_id=live.id,
                client=me,
                body=GiftBody(gift_id=gift.id, quantity=2),
                idempotency_key=f"gen-{login.user.id}-1",
            )
            assert isinstance(sent, GiftSent), sent
            assert sent.gift_id == gift.id and sent.coins == 2 * gift.price
            wallet = get_wallet.sync(client=me)
            assert isinstance(wallet, Wallet)
            assert wallet.balance == 500 - 2 * gift.price == sent.wallet.balance
            assert wallet.total_spent == 2 * gift.price


def _sign_up_and_log_in(
    anon,
    post_auth_register,
    post_auth_login,
    AuthResult,
    ErrorEnvelope,
    LoginBody,  # noqa: N803
    RegisterBody,
):
    tag = uuid.uuid4().hex[:8]

    def signup(name):
        got = post_auth_register.sync(
            client=anon,
            body=RegisterBody(
                email=f"{name}{tag}@example.com",
                password="correct horse battery",
                username=f"{name}{tag}",
                country="NP",
                birth_date="1995-05-05",
            ),
        )
        assert isinstance(got, AuthResult), got
        return got

    host, viewer = signup("genhost"), signup("genviewer")
    assert viewer.user.username == f"genviewer{tag}" and viewer.user.coins.balance == 0
    # a wrong password comes back as the documented error envelope
    bad = post_auth_login.sync(client=anon, body=LoginBody(email=f"genviewer{tag}@example.com", password="nope-nope"))
    assert isinstance(bad, ErrorEnvelope) and bad.error.code == "invalid_credentials"
    login = post_auth_login.sync(
        client=anon, body=LoginBody(email=f"genviewer{tag}@example.com", password="correct horse battery")
    )
    assert isinstance(login, AuthResult) and login.user.id == viewer.user.id
    return host, viewer, login
