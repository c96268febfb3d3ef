"""Response bodies of the core flows as msgspec types, for the OpenAPI contract (api/contract.py).

The domain returns plain dicts; these describe what they hold (fields the clients rely on;
more may be present). Routes whose answer is not described here declare `Obj` (a JSON object)
or `Page` (an {items, cursor} list): honest about the envelope, silent about the fields.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

Obj = dict[str, Any]


class Page(msgspec.Struct):
    items: list[dict[str, Any]]
    cursor: str | int | None = None


class Coins(msgspec.Struct):
    balance: int
    bonusBalance: int  # noqa: N815 (wire names)
    totalEarned: int  # noqa: N815
    totalSpent: int  # noqa: N815


class Trust(msgspec.Struct):
    score: float
    level: str


class Profile(msgspec.Struct):
    id: str
    username: str
    email: str
    country: str
    birthDate: str  # noqa: N815
    age: int
    role: str
    status: str
    coins: Coins
    ogLevel: int  # noqa: N815
    ogExpiresAt: str | None  # noqa: N815
    trust: Trust
    createdAt: str  # noqa: N815


class TokenPair(msgspec.Struct):
    accessToken: str  # noqa: N815
    refreshToken: str  # noqa: N815
    tokenType: Literal["Bearer"]  # noqa: N815
    expiresIn: int  # noqa: N815


class AuthResult(msgspec.Struct):
    user: Profile
    accessToken: str  # noqa: N815
    refreshToken: str  # noqa: N815
    tokenType: Literal["Bearer"]  # noqa: N815
    expiresIn: int  # noqa: N815


class Wallet(msgspec.Struct):
    balance: int
    bonusBalance: int  # noqa: N815
    totalEarned: int  # noqa: N815
    totalSpent: int  # noqa: N815
    earningsHeld: int  # noqa: N815
    earningsAvailable: int  # noqa: N815
    dailySpendLimit: int | None  # noqa: N815
    spentToday: int  # noqa: N815


class Balances(msgspec.Struct):
    balance: int
    bonusBalance: int  # noqa: N815


class GiftSent(msgspec.Struct):
    txId: int  # noqa: N815
    streamId: str  # noqa: N815
    giftId: str  # noqa: N815
    quantity: int
    coins: int
    paidCoins: int  # noqa: N815
    bonusCoins: int  # noqa: N815
    combo: int
    wallet: Balances


class Gift(msgspec.Struct):
    id: str
    name: str
    price: int
    art: str
    animation: str
    ogExclusive: bool  # noqa: N815
    ogMinLevel: int  # noqa: N815


class GiftCatalog(msgspec.Struct):
    items: list[Gift]


class UserRef(msgspec.Struct):
    id: str
    username: str
    ogLevel: int  # noqa: N815


class Stream(msgspec.Struct):
    id: str
    hostId: str  # noqa: N815
    title: str
    category: str | None
    country: str | None
    status: Literal["pending", "live", "ended"]
    totalCoins: int  # noqa: N815
    createdAt: str  # noqa: N815
    startedAt: str | None  # noqa: N815
    endedAt: str | None  # noqa: N815
    viewers: int
    chatEnabled: bool  # noqa: N815
    slowModeSeconds: int  # noqa: N815
    host: UserRef


class StreamPage(msgspec.Struct):
    items: list[Stream]
    cursor: str | None = None


class Ok(msgspec.Struct):
    ok: bool
