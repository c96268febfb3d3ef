"""The database handle the app passes down: writer + readers + inline reader."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

from . import migrate as migrations
from .readers import InlineReader, Readers
from .writer import T, WriteFn, Writer


def open_and_migrate(
    path: str | Path, synchronous: str = "FULL", backups_dir: str | Path | None = None
) -> list[migrations.Migration]:
    """Bring the schema up to date (used by `serve` at start and by `halobuzz migrate`).
    With pending migrations on an existing schema, a pre-upgrade snapshot goes to backups_dir
    (default <db dir>/backups) first; a failing migration restores it (db/backup.py)."""
    from .backup import migrate_with_rollback

    return migrate_with_rollback(Path(path), synchronous, Path(backups_dir) if backups_dir else None)


class Database:
    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "FULL",
        max_batch: int = 500,
        readers: int = 3,
        metrics: Any = None,
        publish: Callable[[list], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self.max_batch = max_batch
        self.reader_count = readers
        self.metrics = metrics
        self.publish = publish  # gets each committed unit's emit()ted events (the app's bus)
        self.writer: Writer | None = None
        self._readers: Readers | None = None
        self._inline: InlineReader | None = None

    @property
    def readers(self) -> Readers:
        """The read-only connection pool (async reads off the event loop)."""
        if self._readers is None:
            raise RuntimeError("the database is not open")
        return self._readers

    @property
    def inline(self) -> InlineReader:
        """The inline reader: small indexed reads on the loop, invalidated by every commit."""
        if self._inline is None:
            raise RuntimeError("the database is not open")
        return self._inline

    async def open(self) -> None:
        open_and_migrate(self.path, self.synchronous)
        self._inline = InlineReader(self.path)
        self.writer = Writer(
            self.path,
            synchronous=self.synchronous,
            max_batch=self.max_batch,
            metrics=self.metrics,
            on_commit=self._inline.invalidate,
            publish=self.publish,
            publish_loop=asyncio.get_running_loop(),
        )
        self._readers = Readers(self.path, self.reader_count)
        await self._readers.open()

    async def close(self) -> None:
        if self.writer:
            self.writer.close()
        if self._readers:
            await self._readers.close()
        if self._inline:
            self._inline.close()

    async def write(self, fn: WriteFn[T], after: Callable[[T], Any] | None = None) -> T:
        """Run `fn(conn)` in the next group commit; events it emit()s are published after COMMIT."""
        assert self.writer is not None, "database is not open"
        return await self.writer.write(fn, after)

    def is_writable(self) -> bool:
        return self.writer is not None and not self.writer._closed and self.writer._thread.is_alive()
