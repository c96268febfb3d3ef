"""The hub relies on private attributes of Sanic's websocket implementation (gathered in
realtime/sanic_ws.py). If a Sanic upgrade renames or drops one, fail here, loudly."""

from __future__ import annotations

import inspect

from sanic.server.websockets.impl import WebsocketImplProtocol

from halobuzz.realtime import sanic_ws


def test_every_private_attribute_we_use_still_exists_on_sanics_websocket():
    source = inspect.getsource(WebsocketImplProtocol.__init__)
    missing = [name for name, _why in sanic_ws.PRIVATE_ATTRIBUTES if f"self.{name}" not in source]
    assert missing == [], f"Sanic's WebsocketImplProtocol no longer sets {missing}: review realtime/sanic_ws.py"


def test_the_sans_io_protocol_still_has_what_pings_and_close_codes_use():
    from websockets.protocol import Protocol

    for name in ("send_ping", "data_to_send"):
        assert callable(getattr(Protocol, name, None)), name
    assert "close_rcvd" in inspect.getsource(Protocol.__init__)
