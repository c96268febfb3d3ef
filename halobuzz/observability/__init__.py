"""Logs, metrics and health: how an operator sees the appliance."""
