"""The realtime catalogue covers every event the code carries."""

from halobuzz.realtime import catalogue
from halobuzz.realtime import protocol as p
from halobuzz.realtime.rooms import _HANDLERS


def test_every_event_is_in_the_catalogue():
    assert catalogue.missing() == []
    doc = catalogue.asyncapi_document()
    assert doc["asyncapi"] == "3.0.0"
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert set(_HANDLERS) <= names and set(p.LANES) <= names
    join = doc["components"]["messages"]["client_stream_join"]["payload"]
    assert doc["components"]["schemas"][join["$ref"].rsplit("/", 1)[-1]]["required"] == ["streamId"]
    assert doc["components"]["messages"]["server_gift_sent"]["x-lane"].startswith("essential")
    for op in doc["operations"].values():
        channel = op["channel"]["$ref"].rsplit("/", 1)[-1]
        for ref in op["messages"]:
            assert ref["$ref"].split("/")[2] == channel
            assert ref["$ref"].rsplit("/", 1)[-1] in doc["channels"][channel]["messages"]
