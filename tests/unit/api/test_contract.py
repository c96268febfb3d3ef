"""Every HTTP route of the real app declares its contract (api/contract.py), and documents the
very Structs its handler decodes. A route added without `@contract.contract(...)` fails here."""

import pytest

from halobuzz import config
from halobuzz.api import contract


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from halobuzz.app import create_app

    settings = config.load(tmp_path_factory.mktemp("contract") / "data", env={})
    return create_app(settings)


def test_every_route_declares_its_contract(app):
    routes = contract.api_routes(app)
    assert len(routes) > 50  # the real app, not an empty router
    assert contract.routes_without_contract(app) == []


def test_documented_structs_are_the_decoded_ones(app):
    assert contract.drift(app) == []


def test_documented_types_have_unique_names(app):
    """Two Structs of one name collide in components/schemas: a generated client then loses one
    of the operations (it happened: festivals' CreateBody shadowed streams')."""
    import msgspec

    seen: dict[str, set] = {}
    for _method, _path, handler in contract.api_routes(app):
        spec = contract.of(handler)
        if spec is None:
            continue
        for t in (spec.body, spec.query, *spec.responses.values()):
            if isinstance(t, type) and issubclass(t, msgspec.Struct):
                seen.setdefault(t.__name__, set()).add(t)
    assert {name: len(types) for name, types in seen.items() if len(types) > 1} == {}
