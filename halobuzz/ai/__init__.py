"""The seed's AI features, as transparent scoring over signals we already have: boredom detection
(engagement per live stream), cohost suggestions and gift recommendations. No model weights:
each score is a small formula whose parts are returned with it, so a host sees why."""
