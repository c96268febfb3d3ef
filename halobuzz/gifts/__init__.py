"""Gifts: the catalog and sending a gift in a live stream."""
