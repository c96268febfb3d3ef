"""Direct messages: one-to-one conversations, unread counts, read receipts, blocks, privacy."""
