"""Per-country compliance packs (assets/compliance/<CC>.toml), applied on every stake.

A pack says, for users whose account country is CC: the currency, the minimum ages to
register, buy coins and play games of chance, whether games of chance and coin-entry skill
contests are allowed at all, the largest single stake and the daily loss limit (coins
staked minus coins won, per UTC day). Countries without a pack use DEFAULT.toml.

An operator overrides fields in halobuzz.toml (`games_compliance = {NP =
"games_of_chance=true,max_stake=500"}`); the override is recorded in the audit log at
start whenever it differs from the one last applied. Every refusal is a 403 whose code and
message name the rule (`compliance_<field>`, "rule NP.games_of_chance = false").
"""

from __future__ import annotations

import sqlite3
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, Mapping

from ..accounts import audit
from ..errors import Forbidden, Invalid
from ..moderation import restrictions

REQUIRED_COUNTRIES = ("NP", "IN", "BD", "US", "GB", "AE")


class PackError(ValueError):
    pass


@dataclass(frozen=True)
class Pack:
    country: str
    name: str
    currency: str
    min_age_register: int
    min_age_buy: int
    min_age_games_of_chance: int
    games_of_chance: bool
    paid_skill_contests: bool
    max_stake: int
    daily_loss_limit: int

    def as_json(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "name": self.name,
            "currency": self.currency,
            "minAge": {
                "register": self.min_age_register,
                "buy": self.min_age_buy,
                "gamesOfChance": self.min_age_games_of_chance,
            },
            "gamesOfChance": self.games_of_chance,
            "paidSkillContests": self.paid_skill_contests,
            "maxStake": self.max_stake,
            "dailyLossLimit": self.daily_loss_limit,
        }


_FIELDS = {f.name: f.type for f in fields(Pack)}


def _typed(name: str, value: Any, where: str) -> Any:
    kind = _FIELDS.get(name)
    if kind is None:
        raise PackError(f"{where}: unknown field {name!r}")
    if kind == "bool":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            raise PackError(f"{where}: {name} must be true or false")
        return value
    if kind == "int":
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise PackError(f"{where}: {name} must be a whole number") from None
        if value < 0:
            raise PackError(f"{where}: {name} must not be negative")
        return value
    return str(value)


def parse(text: str, where: str) -> Pack:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{where}: {exc}") from None
    missing = [n for n in _FIELDS if n not in raw]
    if missing:
        raise PackError(f"{where}: missing {', '.join(missing)}")
    return Pack(**{k: _typed(k, v, where) for k, v in raw.items()})


def parse_override(text: str, where: str) -> dict[str, Any]:
    """'games_of_chance=true,max_stake=500' -> typed fields."""
    out: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, value = part.partition("=")
        if not sep:
            raise PackError(f"{where}: {part!r} must look like field=value")
        name = name.strip()
        if name in ("country", "name"):
            raise PackError(f"{where}: {name} cannot be overridden")
        out[name] = _typed(name, value.strip(), where)
    return out


class Packs:
    def __init__(self, packs: dict[str, Pack], overrides: dict[str, dict[str, Any]]) -> None:
        self.base = packs
        self.overrides = overrides
        self.packs = {cc: replace(p, **overrides.get(cc, {})) for cc, p in packs.items()}

    @classmethod
    def load(cls, directory: Path, overrides: Mapping[str, str] | None = None) -> "Packs":
        packs = {}
        for path in sorted(directory.glob("*.toml")):
            pack = parse(path.read_text(encoding="utf-8"), str(path))
            if pack.country != path.stem:
                raise PackError(f"{path}: country {pack.country!r} does not match the file name")
            packs[pack.country] = pack
        for cc in (*REQUIRED_COUNTRIES, "DEFAULT"):
            if cc not in packs:
                raise PackError(f"{directory}: no compliance pack for {cc}")
        parsed = {}
        for cc, text in (overrides or {}).items():
            cc = cc.upper()
            if cc not in packs:
                raise PackError(f"games_compliance: no pack {cc} to override (packs: {', '.join(sorted(packs))})")
            parsed[cc] = parse_override(text, f"games_compliance.{cc}")
        return cls(packs, parsed)

    def get(self, country: str | None) -> Pack:
        return self.packs.get((country or "").upper()) or replace(
            self.packs["DEFAULT"], country=(country or "DEFAULT").upper()
        )

    def for_country(self, country: str) -> Pack:
        """A pack by name for `halobuzz compliance show` (no fallback: an unknown code is an error)."""
        cc = country.upper()
        if cc not in self.packs:
            raise Invalid(f"no compliance pack for {cc!r}; packs: {', '.join(sorted(self.packs))}", field="country")
        return self.packs[cc]

    def record_overrides(self, conn: sqlite3.Connection, actor: audit.Actor, at: str) -> list[str]:
        """Audit every override that differs from the one last applied (and every removal)."""
        changed = []
        seen = {r["country"]: r["override"] for r in conn.execute("SELECT * FROM game_compliance_applied")}
        for cc in sorted(set(seen) | set(self.overrides)):
            now_text = _canon(self.overrides.get(cc, {}))
            if seen.get(cc, "") == now_text:
                continue
            audit.record(
                conn,
                actor,
                "compliance.override",
                target_type="compliance_pack",
                target_id=cc,
                before={"override": seen.get(cc) or None, "pack": asdict(self.base[cc])},
                after={"override": now_text or None, "pack": asdict(self.packs[cc])},
                at=at,
            )
            if now_text:
                conn.execute(
                    "INSERT INTO game_compliance_applied(country, override, applied_at) VALUES (?,?,?) "
                    "ON CONFLICT(country) DO UPDATE SET override = excluded.override, "
                    "applied_at = excluded.applied_at",
                    (cc, now_text, at),
                )
            else:
                conn.execute("DELETE FROM game_compliance_applied WHERE country = ?", (cc,))
            changed.append(cc)
        return changed


def _canon(fields_: dict[str, Any]) -> str:
    return ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in sorted(fields_.items()))


def _age(birth: str, today: date) -> int:
    born = date.fromisoformat(birth)
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def refuse(pack: Pack, rule: str, message: str) -> Forbidden:
    value = getattr(pack, rule)
    shown = str(value).lower() if isinstance(value, bool) else value
    return Forbidden(
        f"{message} (rule {pack.country}.{rule} = {shown})",
        code=f"compliance_{rule}",
        extra={"rule": f"{pack.country}.{rule}", "country": pack.country},
    )


def check_stake(
    conn: sqlite3.Connection, user: sqlite3.Row, amount: int, *, chance: bool, pack: Pack, today: date
) -> None:
    """Every stake passes here inside its write unit: age, country rules, max stake, daily loss."""
    if chance:
        # Under-18 (declared or judged by a moderator) never plays games of chance, whatever the pack says.
        restrictions.require_games_of_chance(conn, user["id"], today)
        if not pack.games_of_chance:
            raise refuse(pack, "games_of_chance", f"games of chance are not allowed in {pack.country}")
        if _age(user["birth_date"], today) < pack.min_age_games_of_chance:
            raise refuse(
                pack,
                "min_age_games_of_chance",
                f"games of chance need an age of at least {pack.min_age_games_of_chance}",
            )
    elif not pack.paid_skill_contests:
        raise refuse(pack, "paid_skill_contests", f"coin-entry contests are not allowed in {pack.country}")
    if amount > pack.max_stake:
        raise refuse(pack, "max_stake", f"a stake of {amount} coins is above the limit of {pack.max_stake}")
    row = conn.execute(
        "SELECT staked, won FROM game_daily WHERE user_id = ? AND day = ?", (user["id"], today.isoformat())
    ).fetchone()
    staked, won = (row["staked"], row["won"]) if row else (0, 0)
    # Counted as if this stake is lost: the limit holds whatever the outcome.
    if staked - won + amount > pack.daily_loss_limit:
        raise refuse(
            pack, "daily_loss_limit", f"this stake could take today's game losses past {pack.daily_loss_limit} coins"
        )


def record_daily(conn: sqlite3.Connection, user_id: str, day: str, *, staked: int = 0, won: int = 0) -> None:
    conn.execute(
        "INSERT INTO game_daily(user_id, day, staked, won) VALUES (?,?,?,?) "
        "ON CONFLICT(user_id, day) DO UPDATE SET staked = staked + excluded.staked, "
        "won = won + excluded.won",
        (user_id, day, staked, won),
    )
