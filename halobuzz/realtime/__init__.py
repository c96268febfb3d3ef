"""Websocket rooms: the /ws endpoint, per-connection send queues, event fan-out from the bus."""
