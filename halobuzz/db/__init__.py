"""SQLite access: one writer thread (group commit), read-only connections, migrations."""

from .connection import connect
from .database import Database
from .readers import Readers
from .writer import Writer, WriterClosed, emit

__all__ = ["connect", "Writer", "WriterClosed", "Readers", "Database", "emit"]
