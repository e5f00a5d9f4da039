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
