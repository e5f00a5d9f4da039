"""Shared fixtures: the shipped Essen catalogue, loaded once per test session."""

from __future__ import annotations

import pytest

from gis_planning.data.catalog import default_catalog


@pytest.fixture(scope="session")
def catalog():
    return default_catalog()


@pytest.fixture(scope="session")
def stadtteile(catalog):
    return catalog.load("stadtteile")


@pytest.fixture(scope="session")
def zensus_catalog():
    """The Essen catalogue plus the Zensus 2011 cells as layer ``zensus2011``.

    Until the city pack names the layer, tests add it here the way a pack will.
    """
    from gis_planning.data.sources.essen_zensus import load_zensus2011
    from gis_planning.data.zensus import zensus_schema

    cat = default_catalog()
    cat.schemas["zensus2011"] = zensus_schema()
    cat.sources["zensus2011"] = load_zensus2011
    return cat
