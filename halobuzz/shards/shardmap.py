"""The shard map: which shard serves which countries, where it is, how to reach it, and its key.

One JSON file, signed by the operator's Ed25519 key. The signature covers the
canonical form of everything but the signature itself (keys sorted, no
whitespace, UTF-8; the values are only strings, integers and lists of them, so
this form is the RFC 8785 one). A shard is given the operator's PUBLIC key
separately from the map (settings), so whoever can swap the map file cannot
also swap the key that vouches for it.

    {"format": 1, "version": 7, "operator": "<b64 raw Ed25519 public key>",
     "shards": [{"name": "np", "countries": ["NP", "BD"], "url": "https://np.example",
                 "subjects": {"gifts": "halobuzz.np.gifts", "receipts": "halobuzz.np.receipts",
                              "rooms": "halobuzz.np.rooms"},
                 "publicKey": "<b64 raw Ed25519 public key>"}],
     "signature": "<b64 Ed25519 signature>"}
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = 1
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
SUBJECT_KINDS = ("gifts", "receipts", "rooms")


class ShardMapError(ValueError):
    """The map is malformed, unsigned, or its signature does not verify: a shard must not start with it."""


# -- keys -------------------------------------------------------------------------------


def public_b64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


def load_public(text: str) -> Ed25519PublicKey:
    """A raw key in base64, or a PEM public key."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ShardMapError("not an Ed25519 public key")
            return key
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError) as exc:
        raise ShardMapError(f"not an Ed25519 public key ({exc})") from None


def load_private(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ShardMapError(f"{path} is not an Ed25519 private key")
    return key


def write_private(path: Path, key: Ed25519PrivateKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with open(path, "xb") as f:  # never overwrite an existing key
        f.write(data)
    path.chmod(0o600)


# -- the map --------------------------------------------------------------------------------


def default_subjects(name: str) -> dict[str, str]:
    return {kind: f"halobuzz.{name}.{kind}" for kind in SUBJECT_KINDS}


@dataclass(frozen=True)
class Shard:
    name: str
    countries: tuple[str, ...]
    url: str
    public_key: str  # base64 raw Ed25519
    subjects: dict[str, str] = field(default_factory=dict)

    def key(self) -> Ed25519PublicKey:
        return load_public(self.public_key)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "countries": list(self.countries),
            "url": self.url,
            "subjects": dict(self.subjects),
            "publicKey": self.public_key,
        }


@dataclass(frozen=True)
class ShardMap:
    version: int
    operator: str  # base64 raw Ed25519 public key of the operator
    shards: tuple[Shard, ...] = ()
    signature: str | None = None

    # -- lookups --
    def shard(self, name: str) -> Shard:
        for s in self.shards:
            if s.name == name:
                return s
        raise KeyError(name)

    def has(self, name: str) -> bool:
        return any(s.name == name for s in self.shards)

    def shard_for_country(self, country: str) -> Shard | None:
        country = country.upper()
        for s in self.shards:
            if country in s.countries:
                return s
        return None

    def peer_keys(self) -> dict[str, Ed25519PublicKey]:
        return {s.name: s.key() for s in self.shards}

    # -- serialisation --
    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "operator": self.operator,
            "shards": [s.as_json() for s in sorted(self.shards, key=lambda s: s.name)],
        }

    def canonical(self) -> bytes:
        return canonical_bytes(self.body())

    def as_json(self) -> dict[str, Any]:
        doc = self.body()
        if self.signature:
            doc["signature"] = self.signature
        return doc

    def dumps(self) -> str:
        return json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n"

    # -- editing (every edit drops the signature: the operator signs again) --
    def with_shard(self, shard: Shard) -> "ShardMap":
        for other in self.shards:
            if other.name != shard.name:
                clash = set(other.countries) & set(shard.countries)
                if clash:
                    raise ShardMapError(f"countries {sorted(clash)} already belong to shard {other.name!r}")
        kept = tuple(s for s in self.shards if s.name != shard.name)
        return replace(self, shards=(*kept, shard), signature=None)

    def signed(self, operator_key: Ed25519PrivateKey) -> "ShardMap":
        if public_b64(operator_key.public_key()) != self.operator:
            raise ShardMapError("this key is not the map's operator key")
        bumped = replace(self, version=self.version + 1, signature=None)
        sig = operator_key.sign(bumped.canonical())
        return replace(bumped, signature=base64.b64encode(sig).decode())

    def verify(self, trusted_operator: Ed25519PublicKey | str) -> "ShardMap":
        """Raise ShardMapError unless the map is signed by `trusted_operator`; returns self."""
        trusted = public_b64(trusted_operator) if isinstance(trusted_operator, Ed25519PublicKey) else trusted_operator
        if self.operator != trusted:
            raise ShardMapError("the map names a different operator key than the one this shard trusts")
        if not self.signature:
            raise ShardMapError("the shard map is not signed (run `halobuzz shards sign`)")
        try:
            load_public(trusted).verify(base64.b64decode(self.signature, validate=True), self.canonical())
        except (InvalidSignature, ValueError):
            raise ShardMapError("the shard map's signature does not verify") from None
        return self


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def new_map(operator: Ed25519PublicKey) -> ShardMap:
    return ShardMap(version=0, operator=public_b64(operator))


def new_shard(
    name: str, countries: list[str] | tuple[str, ...], url: str, public_key: str, subjects: dict[str, str] | None = None
) -> Shard:
    shard = Shard(
        name,
        tuple(sorted({c.strip().upper() for c in countries if c.strip()})),
        url.rstrip("/"),
        public_b64(load_public(public_key)),
        subjects or default_subjects(name),
    )
    _check_shard(shard)
    return shard


def _check_shard(s: Shard) -> None:
    if not _NAME.match(s.name):
        raise ShardMapError(f"shard name {s.name!r}: 1-31 lowercase letters, digits or '-', starting with a letter")
    if not s.countries:
        raise ShardMapError(f"shard {s.name!r} serves no country")
    for c in s.countries:
        if not _COUNTRY.match(c):
            raise ShardMapError(f"shard {s.name!r}: {c!r} is not an ISO 3166-1 alpha-2 code")
    if not s.url.startswith(("http://", "https://")):
        raise ShardMapError(f"shard {s.name!r}: url must start with http:// or https://")
    if set(s.subjects) != set(SUBJECT_KINDS):
        raise ShardMapError(f"shard {s.name!r}: subjects must name exactly {', '.join(SUBJECT_KINDS)}")
    for subject in s.subjects.values():
        if not isinstance(subject, str) or not re.match(r"^[A-Za-z0-9_.-]+$", subject) or ".." in subject:
            raise ShardMapError(f"shard {s.name!r}: {subject!r} is not a plain NATS subject")
    load_public(s.public_key)


def parse(doc: Any) -> ShardMap:
    """Structure only; the signature is checked by verify()."""
    try:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ShardMapError(f"not a shard map (format must be {FORMAT})")
        unknown = set(doc) - {"format", "version", "operator", "shards", "signature"}
        if unknown:
            raise ShardMapError(f"unknown fields {sorted(unknown)}")
        shards = []
        for item in doc.get("shards", []):
            extra = set(item) - {"name", "countries", "url", "subjects", "publicKey"}
            if extra:
                raise ShardMapError(f"shard {item.get('name')!r}: unknown fields {sorted(extra)}")
            shard = Shard(
                item["name"], tuple(item["countries"]), item["url"], item["publicKey"], dict(item["subjects"])
            )
            _check_shard(shard)
            shards.append(shard)
        names = [s.name for s in shards]
        if len(set(names)) != len(names):
            raise ShardMapError("a shard name appears twice")
        countries = [c for s in shards for c in s.countries]
        if len(set(countries)) != len(countries):
            raise ShardMapError("a country belongs to two shards")
        version = doc["version"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise ShardMapError("version must be a non-negative integer")
        load_public(doc["operator"])
        sig = doc.get("signature")
        if sig is not None and not isinstance(sig, str):
            raise ShardMapError("signature must be a string")
        return ShardMap(version, doc["operator"], tuple(shards), sig)
    except (KeyError, TypeError) as exc:
        raise ShardMapError(f"not a shard map (missing or wrong {exc})") from None


def read(path: Path) -> ShardMap:
    try:
        return parse(json.loads(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ShardMapError(f"{path}: no such shard map") from None
    except json.JSONDecodeError as exc:
        raise ShardMapError(f"{path}: not JSON ({exc})") from None


def write(path: Path, shard_map: ShardMap) -> None:
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(shard_map.dumps(), encoding="utf-8")
    tmp.replace(path)


def load_verified(path: Path, trusted_operator: str, own_shard: str | None = None) -> ShardMap:
    """What a shard does at start: read, verify against the operator key it trusts, find itself."""
    shard_map = read(path).verify(trusted_operator.strip())
    if own_shard is not None and not shard_map.has(own_shard):
        raise ShardMapError(f"shard {own_shard!r} is not in the shard map")
    return shard_map
