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
    from gis_planning.io import write_layer
    from gis_planning.privacy import is_confidential, release
    from gis_planning.webmap import Atlas

    pw = catalog.load("projektwohnungen")
    assert is_confidential(pw) and is_confidential(pw.to_crs("EPSG:4326"))
    for fmt in ("geojson", "gpkg", "csv"):
        with pytest.raises(ConfidentialDataError, match="confidential"):
            write_layer(pw, tmp_path / f"x.{fmt}")
        assert not (tmp_path / f"x.{fmt}").exists()
    atlas = Atlas(title="t", bounds=catalog.load("stadtteile"))
    with pytest.raises(ConfidentialDataError):
        atlas.add_points(pw, name="nein")
    released = release(pw, catalog.load("stadtteile"))
    assert not is_confidential(released) and len(released) == 50
    write_layer(released, tmp_path / "ok.geojson")
