"""`halobuzz serve` with this branch's parts wired in the way the composition root (issue 17) will:
the Socket.IO gateway after the live-rooms plugin, and /docs (contract document, AsyncAPI,
offline Swagger UI) with sanic-ext configured for it.

Temporary: the tests and bench/sio_fanout.py run the server through this until app.py wires them."""
from halobuzz import app as app_module, features
from halobuzz.api import docs
from halobuzz.cli import main
from halobuzz.realtime import socketio, wiring
from halobuzz.resources import assets_dir

if socketio.plugin not in features.PLUGINS:
    at = features.PLUGINS.index(wiring.plugin) + 1
    features.PLUGINS = (*features.PLUGINS[:at], socketio.plugin, *features.PLUGINS[at:])

_extend = app_module.Extend


def _extend_with_docs(app, *args, **kw):
    app.config.update(docs.config(assets_dir(app.ctx.hb.settings)))
    result = _extend(app, *args, **kw)
    app.blueprint(docs.bp)
    return result


app_module.Extend = _extend_with_docs

if __name__ == "__main__":
    main()
