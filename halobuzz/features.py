"""The list of feature plugins create_app wires in, in order (each: plugin(app, ctx))."""
from __future__ import annotations

from . import moderation_plugin, money_plugin
from .api import console
from .db import backup, replication
from .payments import plugin as payments
from .realtime import wiring as live_rooms

PLUGINS: tuple = (
    backup.plugin,
    replication.plugin,
    money_plugin.plugin,
    live_rooms.plugin,  # streams, chat, DMs, battles, /ws
    console.plugin,  # web console at / and static files at /assets/
    payments.plugin,  # coin purchases: eSewa, Khalti, Stripe (+ reconciliation job)
    moderation_plugin.plugin,  # chat moderator, images, age, reports, review queue, appeals
    money_plugin.jobs_plugin,  # keep last: starts the scheduler with every job registered
)
