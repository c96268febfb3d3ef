"""Country shards: the signed shard map, peer token keys, and cross-shard gifts over NATS JetStream."""
