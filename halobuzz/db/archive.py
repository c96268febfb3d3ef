"""Backup archives that restore a working server on their own: database + secrets + settings.

An archive is a gzip'd tar holding `manifest.json`, `halobuzz.db` (a checked snapshot made with
SQLite's backup API; absent in a secrets-only export), `secrets/<name>` (the token signing key
and the field-encryption keys: without them a restore on a new machine ends every session and
leaves every stored gateway payload unreadable) and `halobuzz.toml` when there is one. Files
are written 0600 under a temporary name and renamed.

With a passphrase the whole tar is sealed with AES-256-GCM under a key derived with scrypt
(both from `cryptography`); the header (magic, salt, nonce) is authenticated as associated
data. The sealed form is built in memory: fine for the databases one appliance holds (a few
GB at most would need a streaming format).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .backup import BackupError, _stamp, check_file, snapshot

MAGIC = b"HALOBUZZ-BACKUP-SEALED-1\n"
FORMAT = 1
DB_MEMBER = "halobuzz.db"
SETTINGS_MEMBER = "halobuzz.toml"
SECRETS_PREFIX = "secrets/"
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


@dataclass
class Contents:
    manifest: dict[str, Any]
    db: Path | None = None  # extracted into the caller's work dir
    secrets: dict[str, bytes] = field(default_factory=dict)  # name -> bytes
    settings_toml: bytes | None = None


def _key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, **_SCRYPT).derive(passphrase.encode())


def seal(data: bytes, passphrase: str) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    header = MAGIC + salt + nonce
    return header + AESGCM(_key(passphrase, salt)).encrypt(nonce, data, header)


def unseal(blob: bytes, passphrase: str) -> bytes:
    header = blob[: len(MAGIC) + 28]
    salt, nonce = header[len(MAGIC) : len(MAGIC) + 16], header[len(MAGIC) + 16 :]
    try:
        return AESGCM(_key(passphrase, salt)).decrypt(nonce, blob[len(header) :], header)
    except InvalidTag:
        raise BackupError("wrong passphrase, or the backup was changed after it was made") from None


def is_sealed(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


def is_archive(path: Path) -> bool:
    path = Path(path)
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        head = fh.read(len(MAGIC))
    return head == MAGIC or head[:2] == b"\x1f\x8b"


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def write(
    dest_dir: Path,
    *,
    db_path: Path | None,
    secrets: dict[str, bytes],
    settings_toml: bytes | None,
    passphrase: str | None = None,
    label: str = "manual",
    meta: dict[str, Any] | None = None,
) -> Path:
    """Make one archive in dest_dir and return its path (mode 0600)."""
    dest_dir = Path(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(dest_dir, 0o700)
    except OSError as exc:
        raise BackupError(f"cannot use backups directory {dest_dir}: {exc.strerror or exc}") from None
    kind = "secrets" if db_path is None else label
    final = dest_dir / f"halobuzz-{_stamp()}-{kind}.hbk"
    tmp = final.with_name(final.name + ".partial")
    with tempfile.TemporaryDirectory(prefix=".halobuzz-backup-", dir=dest_dir) as work:
        files: dict[str, str] = {}
        try:
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
                snap = None
                if db_path is not None:
                    snap = snapshot(db_path, Path(work), label)
                    files[DB_MEMBER] = _sha256_file(snap)
                for name, data in sorted(secrets.items()):
                    files[SECRETS_PREFIX + name] = hashlib.sha256(data).hexdigest()
                if settings_toml is not None:
                    files[SETTINGS_MEMBER] = hashlib.sha256(settings_toml).hexdigest()
                manifest = {"format": FORMAT, "createdAt": _stamp(), "files": files, **(meta or {})}
                _add(tar, "manifest.json", json.dumps(manifest, indent=2, sort_keys=True).encode())
                if snap is not None:
                    tar.add(str(snap), arcname=DB_MEMBER)
                for name, data in sorted(secrets.items()):
                    _add(tar, SECRETS_PREFIX + name, data)
                if settings_toml is not None:
                    _add(tar, SETTINGS_MEMBER, settings_toml)
            blob = buf.getvalue()
            del buf
            if passphrase:
                blob = seal(blob, passphrase)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            reason = "the disk is full" if exc.errno == 28 else (exc.strerror or str(exc))
            raise BackupError(f"writing {final} failed: {reason}") from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return final


def read(path: Path, work_dir: Path, passphrase: str | None = None) -> Contents:
    """Open an archive (unsealing it with the passphrase when it is sealed) and check every file
    against the manifest. The database is extracted to work_dir; nothing else touches disk."""
    path = Path(path)
    blob = path.read_bytes()
    if blob.startswith(MAGIC):
        if not passphrase:
            raise BackupError(f"{path} is encrypted: a passphrase is needed")
        blob = unseal(blob, passphrase)
    try:
        tar = tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path} is not a HaloBuzz backup archive ({exc})") from None
    with tar:
        try:
            manifest = json.loads(_member(tar, "manifest.json"))
        except (KeyError, ValueError):
            raise BackupError(f"{path} is not a HaloBuzz backup archive (no manifest)") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{path}: backup format {manifest.get('format')!r} is not one this version reads")
        out = Contents(manifest)
        for name, digest in manifest.get("files", {}).items():
            if name == DB_MEMBER:
                dest = Path(work_dir) / DB_MEMBER
                with open(dest, "wb") as fh:
                    fh.write(_member(tar, name))
                os.chmod(dest, 0o600)
                if _sha256_file(dest) != digest:
                    raise BackupError(f"{path}: {name} does not match its checksum")
                problem = check_file(dest)
                if problem:
                    raise BackupError(f"{path}: the database inside failed its check: {problem}")
                out.db = dest
                continue
            data = _member(tar, name)
            if hashlib.sha256(data).hexdigest() != digest:
                raise BackupError(f"{path}: {name} does not match its checksum")
            if name == SETTINGS_MEMBER:
                out.settings_toml = data
            elif name.startswith(SECRETS_PREFIX) and "/" not in name[len(SECRETS_PREFIX) :]:
                out.secrets[name[len(SECRETS_PREFIX) :]] = data
    return out


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.getmember(name)  # exact names only: nothing is extracted by a path the archive chooses
    if not member.isfile():
        raise BackupError(f"archive member {name} is not a file")
    fh = tar.extractfile(member)
    assert fh is not None
    return fh.read()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_private(path: Path, data: bytes) -> int:
    """Write a restored secret/settings file 0600 (its directory 0700), atomically; returns bytes."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.restoring")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return len(data)
