"""Palettes and class bounds of gis_planning.outputs.styles.

Colour-blind check: the smallest CIEDE2000 difference between adjacent classes of every
palette set, under simulated deuteranopia and protanopia (Machado et al. 2009, severity 1),
must be at least ``MIN_DELTA_E_CVD`` (8), and at least ``MIN_DELTA_E`` (10) for normal
vision. The subsample of the 7-class YlOrRd set the atlas used before gives 5.3 under
deuteranopia (CIE76: 7.5) and fails; ColorBrewer's own 5-class set gives 9.1 (CIE76: 13.1).
"""

from __future__ import annotations

import json
from pathlib import Path

import branca
import numpy as np
import pandas as pd
import pytest
from colour_check import delta_e_2000, min_adjacent_delta_e, simulate

from gis_planning.labels import fmt_number
from gis_planning.outputs.styles import (
    BREWER,
    MIN_DELTA_E,
    MIN_DELTA_E_CVD,
    classify,
    style_for,
)

#: Sharma, Wu & Dalal (2005), Table 1: test pairs 1, 2, 3, 7, 17, 25, 34 with their ΔE00.
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


def test_ciede2000_matches_sharma_test_data():
    lab1 = np.array([p[0] for p in SHARMA])
    lab2 = np.array([p[1] for p in SHARMA])
    got = delta_e_2000(lab1, lab2)
    assert got == pytest.approx([p[2] for p in SHARMA], abs=1e-4)
    assert delta_e_2000(lab2, lab1) == pytest.approx(got, abs=1e-9)  # symmetric


def test_cvd_simulation_keeps_greys_and_confuses_red_green():
    grey = simulate(["#808080", "#ffffff"], "deuteranopia")
    assert np.abs(grey[:, 1:]).max() < 0.5  # neutral stays neutral (rows sum to 1)
    red, green = "#d62728", "#2ca02c"
    normal = delta_e_2000(*simulate([red, green], None))
    for kind in ("deuteranopia", "protanopia"):
        assert delta_e_2000(*simulate([red, green], kind)) < normal / 2


def test_palettes_are_colorbrewers_own_k_class_sets():
    schemes = json.loads((Path(branca.__file__).parent / "_schemes.json").read_text())
    for name, sets in BREWER.items():
        for k, colors in sets.items():
            assert list(colors) == schemes[f"{name}_{k:02d}"], (name, k)


@pytest.mark.parametrize("name", sorted(BREWER))
def test_palettes_pass_the_colour_blind_check(name):
    for k, colors in BREWER[name].items():
        assert min_adjacent_delta_e(list(colors), None) >= MIN_DELTA_E, (name, k)
        for kind in ("deuteranopia", "protanopia"):
            assert min_adjacent_delta_e(list(colors), kind) >= MIN_DELTA_E_CVD, (name, k, kind)


def test_the_old_subsampled_palette_fails_the_check():
    old7 = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"]
    old5 = [old7[i] for i in (0, 2, 3, 4, 6)]
    assert min_adjacent_delta_e(old5, "deuteranopia") < MIN_DELTA_E_CVD
    lab = simulate(old5, "deuteranopia")
    assert np.linalg.norm(np.diff(lab, axis=0), axis=1).min() == pytest.approx(7.45, abs=0.05)


def test_classify_uses_exactly_k_colours_of_the_k_set():
    values = pd.Series(np.linspace(0, 10, 40), name="w")
    for k in (3, 4, 5):
        c = classify(values, k=k, scheme="Quantiles")
        assert c.k == k and c.colors == BREWER["YlOrRd"][k]
    assert classify(values, k=9).k == 5  # no more classes than the palette can tell apart


def test_class_labels_are_half_open_and_match_the_shown_values():
    rng = np.random.default_rng(7)
    values = pd.Series(np.round(rng.gamma(2.0, 3.0, 200), 3), name="anteil")
    c = classify(values, k=5, decimals=1, unit="%")
    assert c.labels[0].count("–") == 1 and not c.labels[0].startswith("über")
    assert all(lab.startswith("über ") for lab in c.labels[1:])
    # the upper number of class i is the lower ("über") number of class i + 1
    uppers = [lab.split("–")[1].strip(" %") for lab in c.labels]
    lowers = [lab.split("–")[0].replace("über", "").strip() for lab in c.labels[1:]]
    assert uppers[:-1] == lowers
    # every value, as users read it, lies in the class its colour says
    for v in values:
        shown = float(fmt_number(v, 1).replace(".", "").replace(",", "."))
        i = c.class_of(v)
        hi = float(uppers[i].replace(".", "").replace(",", "."))
        lo = float(lowers[i - 1].replace(".", "").replace(",", ".")) if i else -np.inf
        assert lo < shown <= hi, (v, shown, c.labels[i])
    assert c.color_of(None) == c.missing_color and c.class_of(float("nan")) is None


def test_one_value_class_and_suppressed_swatch():
    c = classify(pd.Series([7.6, 7.6, 8.3, 24.8], name="a"), k=3, unit="%")
    assert c.labels == ("7,6 %", "über 7,6 – 8,3 %", "über 8,3 – 24,8 %")
    frame = pd.DataFrame({"anzahl_wert": [np.nan, 6.0, 9.0, 30.0, np.nan, 12.0]})
    style = style_for("projektwohnungen_anzahl", frame)
    assert style.classification.missing_label == "< 5 unterdrückt"
    assert "(grau)" not in style.legend_title
