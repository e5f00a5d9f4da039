import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import box

from gis_planning import CRSError, InputError
from gis_planning.data.synthetic import SYNTHETIC_NOTE, synthetic_points_by_share
from gis_planning.rounding import largest_remainder


def test_largest_remainder_hand_case():
    # quotas 3.33 x 3 -> equal remainders and quotas: the first wins -> 4, 3, 3
    # quotas 2.5, 7.5 -> equal remainders: the larger quota wins -> 2, 8
    assert largest_remainder([1, 1, 1], 10).tolist() == [4, 3, 3]
    assert largest_remainder([1, 3], 10).tolist() == [2, 8]
    assert largest_remainder([22.3, 1.8], 100).tolist() == [93, 7]


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=30), st.integers(0, 10**7))
def test_largest_remainder_sums_exactly(weights, total):
    if sum(weights) <= 0:
        return
    parts = largest_remainder(weights, total)
    assert parts.sum() == total and (parts >= 0).all()
    quota = np.asarray(weights) / sum(weights) * total
    assert (np.abs(parts - quota) < 1 + 1e-9).all()


def test_largest_remainder_rejects_bad_weights():
    with pytest.raises(InputError, match="Gewichte"):
        largest_remainder([0, 0], 5)


def test_points_follow_shares_and_are_reproducible():
    areas = gpd.GeoDataFrame({"b": [1, 2], "share": [75.0, 25.0]},
                             geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
                             crs="EPSG:25832")
    a = synthetic_points_by_share(areas, "share", total=20, seed=1, id_column="b")
    b = synthetic_points_by_share(areas, "share", total=20, seed=1, id_column="b")
    assert a.geom_equals(b).all()
    assert a.groupby("b").size().tolist() == [15, 5]
    assert (a[a.b == 2].geometry.x >= 100).all()
    assert a["synthetisch"].all() and (a["hinweis"] == SYNTHETIC_NOTE).all()


def test_geographic_crs_refused():
    areas = gpd.GeoDataFrame({"share": [1.0]}, geometry=[box(7, 51, 7.1, 51.1)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="Projizieren Sie zuerst"):
        synthetic_points_by_share(areas, "share")


def test_essen_projektwohnungen_match_seed_shares(catalog):
    from gis_planning.data.sources import essen_seed as seed

    pw = catalog.load_confidential_points("projektwohnungen")
    assert len(pw) == 500
    assert pw["synthetisch"].all() and (pw["hinweis"] == SYNTHETIC_NOTE).all()
    shares = seed.bezirk_statistik().set_index("bezirk")["projektwohnungen_anteil_prozent"]
    expected = largest_remainder(shares.to_numpy(), 500)
    assert pw.groupby("bezirk").size().reindex(shares.index).tolist() == expected.tolist()
    # each point lies in the Bezirk it was drawn for
    bz = catalog.load("stadtbezirke")
    joined = gpd.sjoin(pw, bz[["bezirk", "geometry"]], predicate="within",
                       lsuffix="pw", rsuffix="bz")
    assert (joined["bezirk_pw"] == joined["bezirk_bz"]).all()
    assert catalog.schema("projektwohnungen").synthetic
