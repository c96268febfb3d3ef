"""The contract decorator and the document it produces, on a small app of its own."""

from typing import Annotated, Literal

import msgspec
from sanic import Sanic
from sanic.response import json
from sanic_ext import openapi

from halobuzz.api import contract as c
from halobuzz.api.validation import Schema, decode_json, decode_query


class NewThing(Schema):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    kind: Literal["a", "b"] = "a"
    birth_date: str | None = None


class Thing(msgspec.Struct):
    id: str
    title: str


class ListQuery(msgspec.Struct, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20
    status: Literal["live", "ended"] | None = None


def make_app(name: str) -> Sanic:
    app = Sanic(name)

    @app.post("/api/v1/things")
    @openapi.secured("bearer")
    @c.contract(body=NewThing, responses={201: Thing}, errors=(409,), idempotency=True)
    async def create(request):
        return json(decode_json(request.body, NewThing, 1000), status=201)

    @app.get("/api/v1/things/<thing_id>")
    @c.contract(query=ListQuery, responses={200: list[Thing]}, auth=None)
    async def one(request, thing_id: str):
        decode_query(request.args, NewThing)  # drift: documents ListQuery
        return json([])

    @app.get("/api/v1/bare")
    async def bare(request):
        return json({})

    return app


def test_document_and_checks():
    app = make_app("contract_test")
    assert c.routes_without_contract(app) == ["GET /api/v1/bare"]
    assert c.drift(app) == ["GET /api/v1/things/{thing_id}: decodes NewThing but documents ListQuery"]
    base = {
        "openapi": "3.0.3",
        "info": {"title": "API", "version": "1.0.0"},
        "paths": {"/api/v1/things": {"post": {"summary": "Make", "security": [{"bearer": []}]}}},
    }
    doc = c.openapi_document(app, base)
    assert doc["openapi"] == "3.1.0" and doc["info"]["title"] == "HaloBuzz"
    post = doc["paths"]["/api/v1/things"]["post"]
    assert post["summary"] == "Make" and post["operationId"] == "post_things"
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/NewThing"}
    new = doc["components"]["schemas"]["NewThing"]
    # the wire names and the limits of the very Struct that validates the body
    assert set(new["properties"]) == {"title", "kind", "birthDate"} and new["required"] == ["title"]
    assert new["properties"]["title"] == {"type": "string", "minLength": 1, "maxLength": 80}
    assert new["properties"]["kind"]["enum"] == ["a", "b"]
    assert set(post["responses"]) == {"201", "401", "409", "413", "422", "429"}
    assert post["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")
    assert post["responses"]["429"]["headers"]["Retry-After"]["required"] is True
    [key] = post["parameters"]
    assert key["name"] == "Idempotency-Key" and key["in"] == "header" and key["required"] is True
    get = doc["paths"]["/api/v1/things/{thing_id}"]["get"]
    assert "security" not in get
    names = {p["name"]: p for p in get["parameters"]}
    assert names["thing_id"]["in"] == "path" and names["thing_id"]["required"] is True
    assert names["limit"] == {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    }
    assert get["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
    assert set(get["responses"]) == {"200", "404", "422", "429"}
