"""Routes for games: the lobby catalog, rounds (open, join, answer, state, proof), compliance
for the client, and the admin side (settings inside the AI band, win-rate report, refunds).

Every route translates: the rules live in halobuzz.games. Body and query schemas are
msgspec Structs (a bad field is a 422 naming it); OpenAPI request and response schemas are
declared on each route.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Optional

import msgspec
from sanic import Blueprint, Request
from sanic.response import json
from sanic_ext import openapi

from ..errors import Invalid
from ..games import rates, rounds
from ..games.service import get_round, list_rounds
from ..infra.clock import parse_iso
from ..wallet.wallet import MAX_SINGLE_SPEND
from . import contract, shapes
from .admin import actor_of
from .middleware import admin, client_ip, principal
from .validation import Schema, decode_json, decode_query

bp = Blueprint("games", url_prefix="/api/v1")
admin_bp = Blueprint("admin_games", url_prefix="/api/v1/admin/games")

Coins = Annotated[int, msgspec.Meta(ge=1, le=MAX_SINGLE_SPEND)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Seed = Annotated[str, msgspec.Meta(max_length=64)]
GameName = Literal["quiz", "lottery", "challenge", "battle"]


class OpenBody(Schema):
    game: GameName
    stake: Coins
    room_id: Optional[Id] = None
    questions: Optional[Annotated[int, msgspec.Meta(ge=1, le=20)]] = None
    seconds: Optional[Annotated[int, msgspec.Meta(ge=5, le=120)]] = None
    category: Optional[Annotated[str, msgspec.Meta(max_length=40)]] = None
    lobby_seconds: Optional[Annotated[int, msgspec.Meta(ge=0, le=3600)]] = None
    draws_at: Optional[Annotated[str, msgspec.Meta(max_length=40)]] = None
    split_bps: Optional[list[Annotated[int, msgspec.Meta(ge=1, le=10_000)]]] = None


class JoinBody(Schema):
    client_seed: Optional[Seed] = None
    team: Optional[Literal["a", "b"]] = None
    count: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1


class AnswerBody(Schema):
    nonce: Annotated[str, msgspec.Meta(min_length=8, max_length=64)]
    question: Optional[Annotated[int, msgspec.Meta(ge=0, le=19)]] = None
    choice: Optional[Annotated[int, msgspec.Meta(ge=0, le=9)]] = None
    answer: Optional[Annotated[int, msgspec.Meta(ge=-(10**9), le=10**9)]] = None


class GameSettingsBody(Schema):
    ai_win_rate: Optional[float] = None
    house_share: Optional[float] = None


class GameRefundBody(Schema):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class RoundsQuery(msgspec.Struct, forbid_unknown_fields=True):
    game: Optional[GameName] = None
    status: Optional[Literal["open", "running", "settled", "refunded", "live"]] = None
    room: Optional[Id] = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50


class CountryQuery(msgspec.Struct, forbid_unknown_fields=True):
    country: Optional[Annotated[str, msgspec.Meta(min_length=2, max_length=7)]] = None


class ReportQuery(msgspec.Struct, forbid_unknown_fields=True):
    window: Optional[Literal["1h", "24h", "7d", "all"]] = None


# Response schemas (OpenAPI): the shapes clients read.
GAME = {
    "game": str,
    "description": str,
    "chance": bool,
    "aiWinRate": float,
    "aiWinBand": [float],
    "houseShare": float,
    "allowed": bool,
    "refusal": str,
}
ROUND = {
    "id": str,
    "game": str,
    "roomId": str,
    "status": str,
    "stake": int,
    "aiWinRate": float,
    "houseShare": float,
    "seedHash": str,
    "seedsHash": str,
    "serverSeed": str,
    "entries": int,
    "players": int,
    "startsAt": str,
    "nextAt": str,
    "createdAt": str,
    "settledAt": str,
    "resolution": str,
    "pot": int,
    "outcome": dict,
    "questions": [dict],
    "puzzle": dict,
    "teams": dict,
    "drawsAt": str,
}
DRAW = {"nonce": int, "kind": str, "n": int, "pBps": int, "result": int, "use": str}
PROOF = {
    "roundId": str,
    "game": str,
    "status": str,
    "seedHash": str,
    "serverSeed": str,
    "clientSeeds": [str],
    "clientSeedsHash": str,
    "aiWinBps": int,
    "draws": [DRAW],
    "algorithm": dict,
    "verified": bool,
}
JOINED = {"roundId": str, "entries": [int], "clientSeed": str, "staked": int, "seedHash": str, "puzzle": dict}
ANSWERED = {
    "question": int,
    "ms": int,
    "accepted": bool,
    "flagged": bool,
    "solved": bool,
    "aiWon": bool,
    "payouts": dict,
}
PACK = {
    "country": str,
    "name": str,
    "currency": str,
    "minAge": {"register": int, "buy": int, "gamesOfChance": int},
    "gamesOfChance": bool,
    "paidSkillContests": bool,
    "maxStake": int,
    "dailyLossLimit": int,
}
REPORT_ROW = {
    "game": str,
    "window": str,
    "configuredP": float,
    "rounds": int,
    "aiWins": int,
    "observed": float,
    "wilson99": [float],
    "containsP": bool,
    "outOfBand": bool,
}
ERROR = {"error": {"code": str, "message": str, "fields": dict}, "requestId": str}


def _games(request: Request):
    return request.app.ctx.services.games


def _hb(request: Request):
    return request.app.ctx.services


def _when(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        raise Invalid(f"{field} must be an ISO-8601 time like 2026-01-01T12:00:00Z", field=field) from None


# -- lobby ------------------------------------------------------------------------------------


@bp.get("/games")
@openapi.summary("The games: rules, published AI win rate p (35-55 % band), house share, and whether you may play")
@openapi.response(200, {"application/json": {"items": [GAME]}}, "The four games")
@contract.contract(responses={200: shapes.Obj}, errors=(403, 409))
async def catalog(request: Request):
    hb = _hb(request)
    user = None
    if request.headers.get("authorization"):
        who = principal(request)
        user = hb.db.inline.one("SELECT * FROM users WHERE id = ?", (who.user_id,))
    return json({"items": _games(request).catalog(hb.db.inline.conn, user)})


@bp.get("/compliance")
@openapi.summary("The compliance pack that applies to you (or ?country=CC): ages, limits, what is allowed")
@openapi.parameter("country", str, "query", description="ISO country code; default: your account's country")
@openapi.response(200, {"application/json": PACK}, "The pack")
@contract.contract(query=CountryQuery, responses={200: shapes.Obj}, errors=(403, 409))
async def compliance(request: Request):
    q = decode_query(request.args, CountryQuery)
    country = q.country
    if country is None:
        if not request.headers.get("authorization"):
            raise Invalid("country is required when not signed in", field="country")
        who = principal(request)
        country = _hb(request).db.inline.one("SELECT country FROM users WHERE id = ?", (who.user_id,))["country"]
    return json(_games(request).rules.packs.get(country).as_json())


# -- rounds -----------------------------------------------------------------------------------


@bp.get("/games/rounds")
@openapi.summary("Rounds, newest first (filter by game, status, room)")
@openapi.parameter("game", str, "query")
@openapi.parameter("status", str, "query", description="open, running, settled, refunded, or live (open+running)")
@openapi.parameter("room", str, "query", description="stream id")
@openapi.response(200, {"application/json": {"items": [ROUND]}}, "Rounds")
@contract.contract(query=RoundsQuery, responses={200: shapes.Obj}, errors=(409,), auth=None)
async def list_(request: Request):
    q = decode_query(request.args, RoundsQuery)
    hb, games = _hb(request), _games(request)
    items = list_rounds(
        hb.db.inline.conn, games.rules.bank, hb.clock.now(), game=q.game, status=q.status, room_id=q.room, limit=q.limit
    )
    return json({"items": items})


@bp.post("/games/rounds")
@openapi.summary("Open a round: quiz/battle by the host of a live room, challenge by a player, lottery by an admin")
@openapi.secured("bearer")
@openapi.body(
    {
        "application/json": {
            "game": str,
            "stake": int,
            "roomId": str,
            "questions": int,
            "seconds": int,
            "category": str,
            "lobbySeconds": int,
            "drawsAt": str,
            "splitBps": [int],
        }
    }
)
@openapi.response(201, {"application/json": ROUND}, "The new round with its seed commitment (seedHash)")
@openapi.response(422, {"application/json": ERROR}, "A field is wrong (named)")
@contract.contract(body=OpenBody, responses={201: shapes.Obj}, errors=(403, 409))
async def open_round(request: Request):
    who = principal(request)
    hb = _hb(request)
    body = decode_json(request.body, OpenBody, hb.settings.max_body_bytes)
    is_admin = False
    if body.game == "lottery":
        admin(request)
        is_admin = True
    out = await _games(request).open_round(
        who.user_id,
        body.game,
        stake=body.stake,
        room_id=body.room_id,
        questions=body.questions,
        seconds=body.seconds,
        category=body.category,
        lobby_seconds=body.lobby_seconds,
        draws_at=_when(body.draws_at, "drawsAt"),
        split_bps=tuple(body.split_bps) if body.split_bps else None,
        admin=is_admin,
    )
    return json(out, status=201)


@bp.get("/games/rounds/<round_id:str>")
@openapi.summary("One round: status, pot, open questions (never an open answer), outcome after the end")
@openapi.response(200, {"application/json": ROUND}, "The round")
@contract.contract(responses={200: shapes.Obj}, errors=(409,), auth=None)
async def one(request: Request, round_id: str):
    hb, games = _hb(request), _games(request)
    return json(get_round(hb.db.inline.conn, round_id, games.rules.bank, hb.clock.now()))


@bp.post("/games/rounds/<round_id:str>/join")
@openapi.summary("Stake into a round (ticket(s), quiz entry, team, challenge); needs an Idempotency-Key")
@openapi.secured("bearer")
@openapi.parameter("Idempotency-Key", str, "header", required=True)
@openapi.body({"application/json": {"clientSeed": str, "team": str, "count": int}})
@openapi.response(201, {"application/json": JOINED}, "Entered; coins moved into the round's escrow")
@openapi.response(403, {"application/json": ERROR}, "Refused by a compliance rule (named in the message)")
@contract.contract(body=JoinBody, responses={201: shapes.Obj}, errors=(403, 409), idempotency=True)
async def join(request: Request, round_id: str):
    who = principal(request)
    hb = _hb(request)
    body = decode_json(request.body, JoinBody, hb.settings.max_body_bytes)
    status, answer, replayed = await _games(request).join(
        who.user_id,
        round_id,
        key=request.headers.get("idempotency-key"),
        client_seed=body.client_seed,
        team=body.team,
        count=body.count,
        ip=client_ip(request, hb.settings.trusted_proxies),
    )
    return json(answer, status=status, headers={"Idempotent-Replayed": "true"} if replayed else None)


@bp.post("/games/rounds/<round_id:str>/start")
@openapi.summary("The host starts a quiz or battle now instead of waiting for the lobby to end")
@openapi.secured("bearer")
@openapi.response(200, {"application/json": {"roundId": str, "startsAt": str}}, "Starting (the server moves it)")
@openapi.response(403, {"application/json": ERROR}, "Not the host of this round")
@contract.contract(responses={200: shapes.Obj}, errors=(403, 409))
async def start(request: Request, round_id: str):
    who = principal(request)
    return json(await _games(request).start_now(who.user_id, round_id))


@bp.post("/games/rounds/<round_id:str>/answer")
@openapi.summary("Answer the open question (quiz, battle) or the puzzle (challenge); timed on the server clock")
@openapi.secured("bearer")
@openapi.body({"application/json": {"nonce": str, "question": int, "choice": int, "answer": int}})
@openapi.response(200, {"application/json": ANSWERED}, "Accepted (a challenge answer also settles it)")
@openapi.response(409, {"application/json": ERROR}, "Not open, time up, already answered, or a replayed nonce")
@contract.contract(body=AnswerBody, responses={200: shapes.Obj}, errors=(403, 409))
async def answer(request: Request, round_id: str):
    who = principal(request)
    body = decode_json(request.body, AnswerBody, _hb(request).settings.max_body_bytes)
    return json(
        await _games(request).answer(
            who.user_id, round_id, nonce=body.nonce, question=body.question, choice=body.choice, value=body.answer
        )
    )


@bp.get("/games/rounds/<round_id:str>/proof")
@openapi.summary("Provable fairness: seed commitment, revealed server seed, client seeds, every draw to recompute")
@openapi.response(200, {"application/json": PROOF}, "The proof (serverSeed is null until the round ends)")
@contract.contract(responses={200: shapes.Obj}, errors=(409,), auth=None)
async def proof(request: Request, round_id: str):
    return json(rounds.proof(_hb(request).db.inline.conn, round_id))


# -- admin ------------------------------------------------------------------------------------


@admin_bp.get("/report")
@openapi.summary("AI win rate: configured p vs observed, 99 % Wilson intervals, per game and window")
@openapi.secured("bearer")
@openapi.parameter("window", str, "query", description="1h, 24h, 7d or all (default: 24h, 7d and all)")
@openapi.response(200, {"application/json": {"band": [float], "items": [REPORT_ROW]}}, "The report")
@contract.contract(query=ReportQuery, responses={200: shapes.Obj}, errors=(403, 409), role="admin")
async def report(request: Request):
    admin(request)
    q = decode_query(request.args, ReportQuery)
    windows = (q.window,) if q.window else ("24h", "7d", "all")
    items = _games(request).report(_hb(request).db.inline.conn, windows)
    return json({"band": [rates.BAND_LOW_BPS / 10_000, rates.BAND_HIGH_BPS / 10_000], "items": items})


@admin_bp.put("/settings/<game:str>")
@openapi.summary("Set a game's AI win rate (refused outside 0.35-0.55) and/or house share (audited)")
@openapi.secured("bearer")
@openapi.body({"application/json": {"aiWinRate": float, "houseShare": float}})
@openapi.response(200, {"application/json": GAME}, "The game with its new settings")
@openapi.response(422, {"application/json": ERROR}, "Out of the 35-55 % band (the rule is in the message)")
@contract.contract(body=GameSettingsBody, responses={200: shapes.Obj}, errors=(403, 409), role="admin")
async def set_settings(request: Request, game: str):
    body = decode_json(request.body, GameSettingsBody, _hb(request).settings.max_body_bytes)
    return json(
        await _games(request).set_game_settings(
            game, actor_of(request), ai_win_rate=body.ai_win_rate, house_share=body.house_share
        )
    )


@admin_bp.post("/rounds/<round_id:str>/refund")
@openapi.summary("Refund a round that has not ended: every stake back (audited)")
@openapi.secured("bearer")
@openapi.body({"application/json": {"reason": str}})
@openapi.response(200, {"application/json": {"roundId": str, "refunded": int}}, "Refunded")
@contract.contract(body=GameRefundBody, responses={200: shapes.Obj}, errors=(403, 409), role="admin")
async def refund(request: Request, round_id: str):
    body = decode_json(request.body, GameRefundBody, _hb(request).settings.max_body_bytes)
    return json(await _games(request).refund(round_id, body.reason, actor_of(request)))


# -- tournaments ------------------------------------------------------------------------------


class TournamentBody(Schema):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    format: Literal["single", "double"]
    entry_fee: Coins
    starts_at: Annotated[str, msgspec.Meta(max_length=40)]
    max_players: Annotated[int, msgspec.Meta(ge=2, le=256)] = 16
    match_seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 60
    split_bps: list[Annotated[int, msgspec.Meta(ge=1, le=10_000)]] = msgspec.field(default_factory=lambda: [7000, 3000])


class TournamentRegisterBody(Schema):
    client_seed: Optional[Seed] = None


class MatchAnswerBody(Schema):
    nonce: Annotated[str, msgspec.Meta(min_length=8, max_length=64)]
    answer: Annotated[int, msgspec.Meta(ge=-(10**9), le=10**9)]


BRACKET = {
    "id": str,
    "name": str,
    "format": str,
    "status": str,
    "entryFee": int,
    "maxPlayers": int,
    "matchSeconds": int,
    "splitBps": [int],
    "houseShare": float,
    "seedHash": str,
    "serverSeed": str,
    "seedsHash": str,
    "startsAt": str,
    "finishedAt": str,
    "pot": int,
    "outcome": dict,
    "players": [{"userId": str, "username": str, "seed": int, "place": int, "payout": int}],
    "matches": [
        {
            "match": int,
            "bracket": str,
            "round": int,
            "position": int,
            "a": str,
            "b": str,
            "status": str,
            "winner": str,
            "how": str,
            "dueAt": str,
            "winTo": int,
            "loseTo": int,
            "puzzle": str,
        }
    ],
}


@bp.get("/tournaments")
@openapi.summary("Tournaments, newest first")
@openapi.response(
    200,
    {
        "application/json": {
            "items": [
                {
                    "id": str,
                    "name": str,
                    "format": str,
                    "status": str,
                    "entryFee": int,
                    "maxPlayers": int,
                    "startsAt": str,
                    "players": int,
                }
            ]
        }
    },
    "Tournaments",
)
@contract.contract(responses={200: shapes.Obj}, errors=(409,), auth=None)
async def tournaments_list(request: Request):
    from ..games import tournaments

    return json({"items": tournaments.listing(_hb(request).db.inline.conn)})


@bp.get("/tournaments/<tid:str>")
@openapi.summary("A tournament's bracket: seeds, matches (W/L/F), results, places and prizes")
@openapi.response(200, {"application/json": BRACKET}, "The bracket")
@contract.contract(responses={200: shapes.Obj}, errors=(409,), auth=None)
async def tournament(request: Request, tid: str):
    from ..games import tournaments

    return json(tournaments.bracket(_hb(request).db.inline.conn, tid))


@bp.post("/tournaments/<tid:str>/register")
@openapi.summary("Register with the entry fee (a skill contest under your compliance pack); Idempotency-Key")
@openapi.secured("bearer")
@openapi.parameter("Idempotency-Key", str, "header", required=True)
@openapi.body({"application/json": {"clientSeed": str}})
@openapi.response(
    201, {"application/json": {"tournamentId": str, "clientSeed": str, "staked": int, "seedHash": str}}, "Registered"
)
@openapi.response(403, {"application/json": ERROR}, "Refused by a compliance rule (named)")
@contract.contract(body=TournamentRegisterBody, responses={200: shapes.Obj}, errors=(403, 409), idempotency=True)
async def tournament_register(request: Request, tid: str):
    who = principal(request)
    body = decode_json(request.body or b"{}", TournamentRegisterBody, _hb(request).settings.max_body_bytes)
    status, answer_, replayed = await _games(request).register_tournament(
        who.user_id, tid, key=request.headers.get("idempotency-key"), client_seed=body.client_seed
    )
    return json(answer_, status=status, headers={"Idempotent-Replayed": "true"} if replayed else None)


@bp.post("/tournaments/<tid:str>/matches/<match:int>/answer")
@openapi.summary("Answer your match's puzzle: the first right answer wins, a wrong one loses")
@openapi.secured("bearer")
@openapi.body({"application/json": {"nonce": str, "answer": int}})
@openapi.response(200, {"application/json": {"match": int, "solved": bool, "won": bool}}, "Decided")
@contract.contract(body=MatchAnswerBody, responses={200: shapes.Obj}, errors=(403, 409))
async def tournament_answer(request: Request, tid: str, match: int):
    who = principal(request)
    body = decode_json(request.body, MatchAnswerBody, _hb(request).settings.max_body_bytes)
    return json(await _games(request).answer_match(who.user_id, tid, match, nonce=body.nonce, value=body.answer))


@admin_bp.post("/tournaments")
@openapi.summary("Create a tournament (single or double elimination), audited")
@openapi.secured("bearer")
@openapi.body(
    {
        "application/json": {
            "name": str,
            "format": str,
            "entryFee": int,
            "startsAt": str,
            "maxPlayers": int,
            "matchSeconds": int,
            "splitBps": [int],
        }
    }
)
@openapi.response(201, {"application/json": BRACKET}, "Created (registering)")
@contract.contract(body=TournamentBody, responses={201: shapes.Obj}, errors=(403, 409), role="admin")
async def tournament_create(request: Request):
    body = decode_json(request.body, TournamentBody, _hb(request).settings.max_body_bytes)
    starts = _when(body.starts_at, "startsAt")
    out = await _games(request).create_tournament(
        actor_of(request),
        name=body.name,
        format=body.format,
        entry_fee=body.entry_fee,
        max_players=body.max_players,
        starts_at=starts,
        split_bps=tuple(body.split_bps),
        match_seconds=body.match_seconds,
    )
    return json(out, status=201)


@admin_bp.post("/tournaments/<tid:str>/cancel")
@openapi.summary("Cancel a tournament that has not finished: every entry fee back (audited)")
@openapi.secured("bearer")
@openapi.body({"application/json": {"reason": str}})
@openapi.response(200, {"application/json": {"tournamentId": str, "refunded": int}}, "Cancelled")
@contract.contract(body=GameRefundBody, responses={200: shapes.Obj}, errors=(403, 409), role="admin")
async def tournament_cancel(request: Request, tid: str):
    body = decode_json(request.body, GameRefundBody, _hb(request).settings.max_body_bytes)
    return json(await _games(request).cancel_tournament(tid, body.reason, actor_of(request)))
