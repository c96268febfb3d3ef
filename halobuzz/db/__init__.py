"""SQLite access: one writer thread (group commit), read-only connections, migrations."""
from .connection import connect
from .writer import Writer, WriterClosed, emit
from .readers import Readers
from .database import Database

__all__ = ["connect", "Writer", "WriterClosed", "Readers", "Database", "emit"]
