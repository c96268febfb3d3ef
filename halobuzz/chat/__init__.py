"""Live chat: messages (persisted), moderation call point, late-join backlog, room sanctions."""
