"""/docs works offline under the strict CSP, and /docs/openapi.json is the app's real contract:
OpenAPI 3.1 (valid), title and version of this build, a body schema from the validating Struct,
responses with the error envelope, the Idempotency-Key header; the realtime catalogue beside it."""

import re

from openapi_spec_validator import validate

from halobuzz import __version__


def test_docs_page_loads_only_its_own_files_under_the_csp(client):
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "https:" not in csp.split("form-action")[0]
    page = r.text
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from a CDN
    assert "<script>" not in page  # no inline script
    for ref in re.findall(r"(?:src|href)=\"(/assets/[^\"]+)\"", page):
        got = client.get(ref)
        assert got.status_code == 200, ref
        if ref.endswith(".js"):
            assert got.headers["content-type"].startswith("text/javascript")
    assert client.get("/assets/docs/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_openapi_document_is_the_contract(client):
    doc = client.get("/docs/openapi.json").json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == "HaloBuzz" and doc["info"]["version"] == __version__
    assert "/ws" not in doc["paths"] and "/" not in doc["paths"]
    ops = [(m, p, o) for p, item in doc["paths"].items() for m, o in item.items()]
    assert len(ops) > 80
    for method, path, op in ops:
        codes = set(op["responses"])
        assert any(c[0] in "23" for c in codes), (method, path)
        assert op["operationId"]
    schemas = doc["components"]["schemas"]
    register = doc["paths"]["/api/v1/auth/register"]["post"]
    ref = register["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    body = schemas[ref]
    assert set(body["required"]) == {"email", "password", "username", "country", "birthDate"}
    assert body["properties"]["password"]["minLength"] == 8
    assert register["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/AuthResult")
    assert register["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")
    assert "security" not in register
    gift = doc["paths"]["/api/v1/streams/{stream_id}/gifts"]["post"]
    assert gift["security"] == [{"bearer": []}]
    params = {p["name"]: p for p in gift["parameters"]}
    assert params["Idempotency-Key"]["in"] == "header" and params["Idempotency-Key"]["required"] is True
    assert params["stream_id"]["in"] == "path"
    assert {"201", "401", "404", "409", "422", "429"} <= set(gift["responses"])
    listing = doc["paths"]["/api/v1/streams"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"country", "sort", "cursor", "limit"}
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_realtime_catalogue(client):
    doc = client.get("/docs/asyncapi.json").json()
    assert doc["asyncapi"].startswith("3.") and set(doc["channels"]) == {"ws", "socketio"}
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert {"stream:join", "chat:new", "gift:sent", "error", "ready"} <= names
