import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from gis_planning import CRSError
from gis_planning.privacy import aggregate_points, suppressed_label


def _cells():
    return gpd.GeoDataFrame({"zelle": ["a", "b", "c"]},
                            geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(20, 0, 30, 10)],
                            crs="EPSG:25832")


def test_primary_suppression_hand_case():
    # 6 points in a, 2 in b, 0 in c
    pts = gpd.GeoDataFrame(geometry=[Point(1 + i, 1) for i in range(6)]
                           + [Point(11, 1), Point(12, 2)], crs="EPSG:25832")
    out = aggregate_points(pts, _cells(), k=5)
    assert out["anzahl"].tolist()[0] == 6
    assert out["anzahl"].isna().tolist() == [False, True, False]
    assert out["anzahl_text"].tolist() == ["6", "< 5", "0"]
    assert out["unterdrueckt"].tolist() == [False, True, False]
    assert "geometry" in out and len(out) == 3  # polygons, never points
    assert out.geom_type.eq("Polygon").all()


def test_crs_mismatch():
    pts = gpd.GeoDataFrame(geometry=[Point(7, 51)], crs="EPSG:4326")
    with pytest.raises(CRSError):
        aggregate_points(pts, _cells())


def test_label():
    assert suppressed_label(None) == "< 5"
    assert suppressed_label(1234) == "1.234"


def test_guard_blocks_confidential_everywhere(catalog, tmp_path):
    from gis_planning import ConfidentialDataError
    from gis_planning.data.io import write_layer
    from gis_planning.outputs.webmap import Atlas
    from gis_planning.privacy import is_confidential, release

    pw = catalog.load_confidential_points("projektwohnungen")
    assert is_confidential(pw) and is_confidential(pw.to_crs("EPSG:4326"))
    for fmt in ("geojson", "gpkg", "csv"):
        with pytest.raises(ConfidentialDataError, match="vertraulich"):
            write_layer(pw, tmp_path / f"x.{fmt}")
        assert not (tmp_path / f"x.{fmt}").exists()
    atlas = Atlas(title="t", bounds=catalog.load("stadtteile"))
    with pytest.raises(ConfidentialDataError):
        atlas.add_points(pw, name="nein")
    released = release(pw, catalog.load("stadtteile"))
    assert not is_confidential(released) and len(released) == 50
    write_layer(released, tmp_path / "ok.geojson")


# -- secondary suppression ---------------------------------------------------------------------

def _sc(values, groups=None, k=5):
    import pandas as pd

    from gis_planning.privacy import suppress_counts

    idx = [f"s{i}" for i in range(len(values))]
    g = None if groups is None else pd.Series(groups, index=idx)
    return suppress_counts(pd.Series(values, index=idx), groups=g, k=k)


def test_secondary_single_suppressed_cell_gets_partner():
    # Bezirk 1: 3 (primary), 10, 12 -> 10 (next smallest) withheld too; Bezirk 2 shown.
    res = _sc([3, 10, 12, 7, 20, 9], groups=[1, 1, 1, 2, 2, 2])
    assert res.cells["anzahl_text"].tolist() == ["< 5", "geheim", "12", "7", "20", "9"]
    assert res.cells["unterdrueckung"].tolist() == ["primär", "sekundär", "", "", "", ""]
    assert res.groups["anzahl"].tolist() == [25, 36] and res.total["anzahl"].item() == 61


def test_secondary_goes_up_the_hierarchy():
    # Bezirk 2 holds 4 and 4 (sum 8 shown would pin both to 4): its total is withheld, then a
    # second Bezirk total, then a cell inside that Bezirk.
    res = _sc([4, 4, 10, 12, 30, 40], groups=[2, 2, 1, 1, 3, 3])
    from gis_planning.privacy import audit_suppression

    assert res.groups.loc[2, "anzahl_text"] == "geheim"
    assert (res.groups["unterdrueckung"] != "").sum() == 2
    assert res.groups.loc[1, "anzahl_text"] == "geheim"  # 22 < 70: the smaller other Bezirk
    assert res.cells.loc["s2", "anzahl_text"] == "geheim"  # 10: smallest cell of Bezirk 1
    assert res.total["anzahl"].item() == 100  # the city total stays public
    audit = audit_suppression(res)
    assert (audit["max"] - audit["min"] >= 1).all()


def test_no_grouping_total_is_public():
    res = _sc([3, 8, 9])
    assert res.cells["anzahl_text"].tolist() == ["< 5", "geheim", "9"]
    # both 4 and 4 below k with the total 8 public: the "< 5" bound would pin both -> geheim
    res = _sc([4, 4])
    assert res.cells["anzahl_text"].tolist() == ["geheim", "geheim"]


def test_suppress_counts_input_errors():
    import pandas as pd

    from gis_planning import InputError
    from gis_planning.privacy import suppress_counts

    with pytest.raises(InputError, match="ganze Zahlen ab 0"):
        suppress_counts(pd.Series([1, -2]))
    with pytest.raises(InputError, match="denselben Index"):
        suppress_counts(pd.Series([1, 2]), groups=pd.Series([1, 1], index=[5, 6]))
    with pytest.raises(InputError, match="Mindestzahl k muss"):
        suppress_counts(pd.Series([1, 2]), k=0)


def test_release_applies_secondary_per_bezirk(catalog):
    import pandas as pd

    from gis_planning.privacy import release, release_table, suppress_counts

    pw = catalog.load_confidential_points("projektwohnungen")
    st = catalog.load("stadtteile")
    out = release(pw, st)
    assert list(out.columns) == ["stadtteil_nr", "stadtteil", "bezirk", "anzahl", "anzahl_text",
                                 "unterdrueckt", "unterdrueckung", "geometry"]
    assert out.index.equals(st.index) and not out.attrs
    # every Bezirk has 0 or >= 2 withheld Stadtteile (no recomputation from Bezirk totals)
    per_bezirk = out.groupby("bezirk")["unterdrueckt"].sum()
    assert not (per_bezirk == 1).any()
    assert out.loc[out["unterdrueckt"], "anzahl"].isna().all()
    assert set(out.loc[out["unterdrueckung"] == "primär", "anzahl_text"]) <= {"< 5"}
    tab = release_table(pw, st)
    assert tab["ebene"].value_counts().to_dict() == {"Stadtteil": 50, "Bezirk": 9, "Stadt": 1}
    assert tab.loc[tab["ebene"] == "Stadt", "anzahl"].item() == len(pw)
    # grid cells without groups: one city total
    res = suppress_counts(pd.Series([0, 2, 7, 9]))
    assert res.cells["unterdrueckung"].tolist() == ["", "primär", "sekundär", ""]


def test_support_counts_and_mask_density():
    import numpy as np

    from gis_planning import InputError
    from gis_planning.privacy import mask_density, support_counts

    pts = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5], [10, 10]])
    centres = np.array([[[0.5, 0.5], [10, 10]], [[50, 50], [0.5, 0.6]]])
    n = support_counts(pts, centres, radius=1.0)
    assert n.tolist() == [[5, 1], [0, 5]]
    dens = np.array([[2.0, 0.3], [0.0, 1.9]])
    masked = mask_density(n, dens, k=5)
    assert masked[0, 0] == 2.0 and np.isnan(masked[0, 1]) and masked[1, 0] == 0.0
    assert masked[1, 1] == 1.9 and dens[0, 1] == 0.3  # input untouched
    assert mask_density(n, dens, k=6, nodata=-1).tolist() == [[-1, -1], [0.0, -1]]
    # a kernel wider than the counting radius: no supporting point but density -> masked
    assert np.isnan(mask_density(np.array([0]), np.array([0.1]))[0])
    with pytest.raises(InputError, match="verschiedenen Rastern"):
        mask_density(n, dens[0])
