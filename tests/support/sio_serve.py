"""`halobuzz serve` with the Socket.IO gateway mounted after the live-rooms plugin.

Temporary: used by the Socket.IO tests until the composition root (issue 17) wires it in."""
from halobuzz import features
from halobuzz.cli import main
from halobuzz.realtime import socketio, wiring

if socketio.plugin not in features.PLUGINS:
    at = features.PLUGINS.index(wiring.plugin) + 1
    features.PLUGINS = (*features.PLUGINS[:at], socketio.plugin, *features.PLUGINS[at:])

if __name__ == "__main__":
    main()
