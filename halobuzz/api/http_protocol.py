"""Sanic's connection protocol with timeouts that match `request_timeout`.

Sanic reads a request body in its handler stage, where only RESPONSE_TIMEOUT applies: a body
shorter than its Content-Length was answered 503 after 60 s. And an idle keep-alive connection
was held KEEP_ALIVE_TIMEOUT (120 s). Here a body that stops arriving for `request_timeout`
seconds is answered 408, and an idle connection is closed after `request_timeout` too.
"""

from __future__ import annotations

import sys
from time import monotonic

from sanic.exceptions import RequestTimeout
from sanic.http import Stage
from sanic.server.protocols.websocket_protocol import WebSocketProtocol


class TimelyProtocol(WebSocketProtocol):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.keep_alive_timeout = min(self.keep_alive_timeout, self.request_timeout)

    def check_timeouts(self):
        http = self._http
        if (
            self._task
            and http is not None
            and http.stage is Stage.HANDLER
            and http.request_body
            and not http.upgrade_websocket
            and monotonic() - self._time > self.request_timeout
        ):
            http.exception = RequestTimeout("the request body did not arrive within request_timeout")
            if sys.version_info < (3, 14):
                self._task.cancel("Cancel connection task with a timeout")
            else:
                self._task.cancel()
            return
        super().check_timeouts()
