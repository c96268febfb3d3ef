"""The list of feature plugins create_app wires in, in order (each: plugin(app, ctx))."""
from __future__ import annotations

from .db import replication

PLUGINS: tuple = (
    replication.plugin,
)
