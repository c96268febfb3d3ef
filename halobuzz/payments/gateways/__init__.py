"""Gateway clients: one module per gateway, each speaking its documented protocol."""
