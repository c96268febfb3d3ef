"""Password hashing (bcrypt) and field encryption at rest (AES-256-GCM).

FieldCipher keeps several keys by id; it always encrypts with the active one and
decrypts with whichever key id the ciphertext names, so keys can be rotated
without rewriting old rows at once.
"""

from __future__ import annotations

import base64
import hashlib
import os

import bcrypt
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

BCRYPT_ROUNDS = 12
# bcrypt ignores bytes past 72; refuse longer passwords instead of silently truncating.
MAX_PASSWORD_BYTES = 72


def hash_password(password: str, rounds: int = BCRYPT_ROUNDS) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def check_password(password: str, hashed: str) -> bool:
    """Constant-shape check: an over-long password costs a full hash too, so timing does not
    tell an existing account (instant refusal) from a missing one (a burned hash)."""
    raw = password.encode()
    if len(raw) > MAX_PASSWORD_BYTES:
        burn_password_check(password, _rounds_of(hashed))
        return False
    try:
        return bcrypt.checkpw(raw, hashed.encode())
    except ValueError:
        return False


def _rounds_of(hashed: str) -> int:
    try:
        return int(hashed.split("$")[2])
    except (IndexError, ValueError):
        return BCRYPT_ROUNDS


# A real hash to compare against when the account does not exist, so login time
# does not reveal which emails are registered.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(4)).decode()


def burn_password_check(password: str, rounds: int = BCRYPT_ROUNDS) -> None:
    bcrypt.hashpw(password.encode()[:MAX_PASSWORD_BYTES], bcrypt.gensalt(rounds))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FieldCipher:
    """AES-256-GCM with a key id prefix: "v1:<kid>:<base64(nonce|ciphertext|tag)>"."""

    def __init__(self, keys: dict[str, bytes], active: str) -> None:
        if active not in keys:
            raise ValueError(f"active key {active!r} is not among the keys")
        for kid, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"key {kid!r} must be 32 bytes for AES-256")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active = active

    def encrypt(self, plaintext: bytes, associated: bytes = b"") -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.active].encrypt(nonce, plaintext, associated or None)
        return f"v1:{self.active}:" + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, associated: bytes = b"") -> bytes:
        version, kid, body = token.split(":", 2)
        if version != "v1" or kid not in self._keys:
            raise ValueError(f"unknown ciphertext version or key id {kid!r}")
        raw = base64.b64decode(body)
        return self._keys[kid].decrypt(raw[:12], raw[12:], associated or None)

    def encrypt_text(self, text: str, associated: str = "") -> str:
        return self.encrypt(text.encode(), associated.encode())

    def decrypt_text(self, token: str, associated: str = "") -> str:
        return self.decrypt(token, associated.encode()).decode()
