"""Stream lifecycle over real HTTP: create → start → end, live list, media credentials, analytics."""

from tests.conftest import register
from tests.integration.rooms_client import live_stream


def test_lifecycle_pending_live_ended(client):
    host, other = register(client), register(client)
    r = client.post("/api/v1/streams", json={"title": "  Morning   show ", "category": "Music"}, headers=host["auth"])
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["status"] == "pending" and s["title"] == "Morning show" and s["category"] == "music"
    assert s["country"] == "NP" and s["hostId"] == host["user"]["id"] and s["totalCoins"] == 0
    # only the host starts it
    assert client.post(f"/api/v1/streams/{s['id']}/start", headers=other["auth"]).status_code == 403
    started = client.post(f"/api/v1/streams/{s['id']}/start", headers=host["auth"])
    assert started.status_code == 200
    body = started.json()
    assert body["status"] == "live" and body["startedAt"]
    assert body["media"]["provider"] == "none" and body["media"]["role"] == "publisher"
    again = client.post(f"/api/v1/streams/{s['id']}/start", headers=host["auth"])
    assert again.status_code == 409
    viewer_media = client.get(f"/api/v1/streams/{s['id']}/media", headers=other["auth"]).json()
    assert viewer_media["role"] == "subscriber" and viewer_media["channel"] == s["id"]
    listed = client.get("/api/v1/streams", params={"country": "NP"}).json()
    assert s["id"] in [i["id"] for i in listed["items"]]
    assert s["id"] not in [i["id"] for i in client.get("/api/v1/streams", params={"country": "US"}).json()["items"]]
    assert client.post(f"/api/v1/streams/{s['id']}/end", headers=other["auth"]).status_code == 403
    ended = client.post(f"/api/v1/streams/{s['id']}/end", headers=host["auth"])
    assert ended.status_code == 200
    e = ended.json()
    assert e["status"] == "ended" and e["endedReason"] == "host"
    assert set(e["analytics"]) >= {
        "peakViewers",
        "uniqueViewers",
        "durationSeconds",
        "chatCount",
        "gifts",
        "totalCoins",
    }
    assert s["id"] not in [i["id"] for i in client.get("/api/v1/streams").json()["items"]]
    assert client.post(f"/api/v1/streams/{s['id']}/end", headers=host["auth"]).status_code == 409


def test_bad_input_and_one_live_stream_per_host(client):
    host = register(client)
    assert client.post("/api/v1/streams", json={"title": ""}, headers=host["auth"]).status_code == 422
    assert client.post("/api/v1/streams", json={"title": "x", "bogus": 1}, headers=host["auth"]).status_code == 422
    assert (
        client.post("/api/v1/streams", json={"title": "x", "country": "Nepal"}, headers=host["auth"]).status_code == 422
    )
    assert client.post("/api/v1/streams", json={"title": "x"}).status_code == 401
    assert client.get("/api/v1/streams/NOPE").status_code == 404
    assert client.get("/api/v1/streams", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/streams", params={"cursor": "!!"}).status_code == 422
    first = live_stream(client, host)
    second = client.post("/api/v1/streams", json={"title": "two"}, headers=host["auth"]).json()
    r = client.post(f"/api/v1/streams/{second['id']}/start", headers=host["auth"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_live"
    client.post(f"/api/v1/streams/{first['id']}/end", headers=host["auth"])


def test_live_list_paginates_with_cursor(client):
    hosts = [register(client) for _ in range(3)]
    ids = {live_stream(client, h, country="BT")["id"] for h in hosts}
    seen, cursor = [], None
    for _ in range(5):
        params = {"country": "BT", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/streams", params=params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert set(seen) == ids and len(seen) == 3
