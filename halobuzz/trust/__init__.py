"""Trust: a transparent 0-100 score from reputation signals, its four levels, and feature gates."""
