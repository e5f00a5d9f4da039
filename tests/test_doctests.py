"""The Examples sections of the package's docstrings run as doctests on the shipped data."""

import doctest
import importlib
import pkgutil

import pytest

import gis_planning

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(gis_planning.__path__, "gis_planning.")
    if not m.name.startswith("gis_planning.static")
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"


def test_some_modules_have_examples():
    finder = doctest.DocTestFinder()
    with_examples = [n for n in MODULES
                     if any(t.examples for t in finder.find(importlib.import_module(n)))]
    assert len(with_examples) >= 5, with_examples
