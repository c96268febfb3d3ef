"""Scheduled jobs. Each job calls one idempotent domain function, so a missed or repeated run is harmless."""
