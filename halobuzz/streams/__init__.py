"""Live streams: lifecycle (pending → live → ended), live analytics, trending, media, PK battles."""
