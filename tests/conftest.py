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
def zensus_catalog(catalog):
    """The Essen catalogue, whose pack names the Zensus 2011 cells as layer ``zensus2011``."""
    assert "zensus2011" in catalog.names()
    return catalog
