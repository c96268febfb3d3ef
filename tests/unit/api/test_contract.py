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
