"""Cell counts to any polygon layer (Stadtteile, Bezirke, JobCenter areas, a user's areas).

:func:`aggregate_cells` sums the counts of grid cells (e.g. Zensus 100 m cells) per unit of a
polygon layer and says where persons went: cells in no unit, cells in several units.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from .._errors import InputError, SchemaError
from .._validate import require_columns, require_crs, require_numeric

__all__ = ["aggregate_cells", "compare_shares"]

logger = logging.getLogger(__name__)

#: CRS of the census grid (cell centres ``x_mp``/``y_mp`` are given in it).
_GRID_CRS = "EPSG:3035"


def _centres(cells: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, object]:
    """Cell centres and the CRS they are in (exact grid centres when present)."""
    if {"x_mp", "y_mp"} <= set(cells.columns):
        return (cells["x_mp"].to_numpy(dtype=float), cells["y_mp"].to_numpy(dtype=float),
                _GRID_CRS)
    require_crs(cells, name="cells")
    pts = shapely.centroid(cells.geometry.to_numpy())
    return shapely.get_x(pts), shapely.get_y(pts), cells.crs


def _squares(cells: gpd.GeoDataFrame) -> tuple[np.ndarray, object]:
    """Cell polygons in the grid CRS when the cells carry grid centres, else as given."""
    if {"x_mp", "y_mp"} <= set(cells.columns):
        half = float(cells.attrs.get("zellgroesse_m", 100)) / 2
        x = cells["x_mp"].to_numpy(dtype=float)
        y = cells["y_mp"].to_numpy(dtype=float)
        return shapely.box(x - half, y - half, x + half, y + half), _GRID_CRS
    require_crs(cells, name="cells")
    return cells.geometry.to_numpy(), cells.crs


def _membership(
    cells: gpd.GeoDataFrame, units: gpd.GeoDataFrame, rule: str
) -> sparse.csr_array:
    """``(cells, units)`` matrix of the share of each cell's counts that goes to each unit."""
    n, m = len(cells), len(units)
    if rule == "centre":
        x, y, crs = _centres(cells)
        geoms = units.to_crs(crs).geometry.make_valid().to_numpy()
        tree = shapely.STRtree(geoms)
        ci, ui = tree.query(shapely.points(x, y), predicate="intersects")
        return sparse.csr_array((np.ones(len(ci)), (ci, ui)), shape=(n, m))
    squares, crs = _squares(cells)
    geoms = units.to_crs(crs).geometry.make_valid().to_numpy()
    tree = shapely.STRtree(geoms)
    ci, ui = tree.query(squares, predicate="intersects")
    cell_area = shapely.area(squares)
    inside = shapely.contains_properly(geoms[ui], squares[ci])
    part = np.ones(len(ci))
    cut = ~inside
    if cut.any():
        part[cut] = (shapely.area(shapely.intersection(squares[ci[cut]], geoms[ui[cut]]))
                     / cell_area[ci[cut]])
    keep = part > 0
    return sparse.csr_array((part[keep], (ci[keep], ui[keep])), shape=(n, m))


def aggregate_cells(
    cells: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    columns: Sequence[str],
    unit_id: str,
    rule: Literal["centre", "area"] = "centre",
    multiple: Literal["all", "first"] = "all",
    total: str | None = "personen",
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """Sum cell counts per unit of a polygon layer, with an audit of unassigned persons.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Grid cells with count columns (e.g. :func:`gis_planning.data.zensus` readers or a
        city's ``zensus2011`` layer). Cells with ``x_mp``/``y_mp`` (exact centres in
        EPSG:3035) are placed by those; other cells by their geometry.
    units : geopandas.GeoDataFrame
        Polygons (Stadtteile, Bezirke, JobCenter areas, ...) in any CRS; reprojected to the
        cells' grid CRS for the test.
    columns : sequence of str
        Count columns of ``cells`` to sum (e.g. ``["personen", "nichtdeutsche"]``).
    unit_id : str
        Column of ``units`` that names each unit (index of the result).
    rule : {"centre", "area"}, default "centre"
        ``"centre"``: a cell counts wholly for each unit its centre lies in (boundary line
        included, so a centre exactly on a shared border counts for both units and shows in
        the audit as counted more than once). ``"area"``: a cell's counts are split by the
        share of the cell's area in each unit (fractional persons).
    multiple : {"all", "first"}, default "all"
        Cells in several units (overlapping units, e.g. a Stadtteil listed under two JobCenter
        areas): ``"all"`` counts them in each (unit sums then exceed the cell total, reported
        in the audit); ``"first"`` counts them only in the first unit (row order of
        ``units``). Ignored for ``rule="area"`` unless units overlap.
    total : str or None, default "personen"
        Column used as the base of the shares and of the audit's person counts; must be in
        ``columns``. ``None``: no shares, the audit counts cells only.
    keep : sequence of str
        Further columns of ``units`` to copy into the result (e.g. ``["stadtteil", "bezirk"]``).

    Returns
    -------
    pandas.DataFrame
        One row per unit, index ``unit_id`` in the order of ``units``: the ``keep`` columns,
        ``n_zellen`` (cells counted, fractional for ``rule="area"``), the summed ``columns``
        and for each other column ``anteil_<column>_prozent`` (``100 * column / total``,
        NaN for units without persons). ``attrs["audit"]`` (German keys): ``regel``,
        ``zellen``, ``personen``, ``zellen_ohne_einheit``, ``personen_ohne_einheit``,
        ``zellen_mehrfach``, ``personen_mehrfach`` (persons counted more than once),
        ``personen_zugeordnet`` (sum over units); ``attrs`` also carries the cells' ``quelle``,
        ``lizenz`` and ``stand``.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, ``unit_id`` not unique.
    InputError
        Unknown ``rule`` or ``multiple``; ``total`` not among ``columns``.

    Notes
    -----
    With the membership matrix :math:`M` (cells x units; 1 where the centre lies in the unit
    for ``"centre"``, the area share :math:`|c \\cap u| / |c|` for ``"area"``) the unit sums are
    :math:`M^T x`. A cell with row sum 0 lies in no unit; a row sum above 1 means it was counted
    more than once. Census cells are approximate (SAFE perturbation): aggregate before reading
    single values.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> cells = gpd.GeoDataFrame({"personen": [10, 20, 30], "nd": [1, 2, 3]},
    ...     geometry=shapely.box([0, 100, 200], 0, [100, 200, 300], 100), crs="EPSG:3035")
    >>> units = gpd.GeoDataFrame({"nr": [1, 2]},
    ...     geometry=[shapely.box(0, 0, 120, 100), shapely.box(120, 0, 250, 100)],
    ...     crs="EPSG:3035")
    >>> t = aggregate_cells(cells, units, columns=["personen", "nd"], unit_id="nr")
    >>> t["personen"].tolist(), t.attrs["audit"]["personen_ohne_einheit"]
    ([10, 50], 0)
    """
    if not isinstance(cells, gpd.GeoDataFrame) or not isinstance(units, gpd.GeoDataFrame):
        raise InputError("Zellen und Einheiten müssen Ebenen mit Geometrien sein.")
    if rule not in ("centre", "area"):
        raise InputError(f"Die Zuordnungsregel muss 'centre' (Zellmittelpunkt) oder 'area' "
                         f"(Flächenanteil) sein, nicht {rule!r}.")
    if multiple not in ("all", "first"):
        raise InputError(f"Bei mehreren Einheiten je Zelle gilt 'all' oder 'first', nicht "
                         f"{multiple!r}.")
    columns = list(columns)
    if not columns:
        raise InputError("Keine Zählspalten angegeben; nennen Sie die zu summierenden "
                         "Spalten.")
    require_numeric(cells, columns, name="cells")
    if total is not None and total not in columns:
        raise InputError(f"Die Gesamtspalte {total!r} muss unter den Zählspalten sein "
                         f"({', '.join(columns)}).")
    require_columns(units, [unit_id, *keep], name="units")
    require_crs(units, name="units")
    if units[unit_id].duplicated().any():
        dup = units.loc[units[unit_id].duplicated(), unit_id].iloc[0]
        raise SchemaError(f"Die Kennspalte {unit_id!r} der Einheiten hat doppelte Werte "
                          f"(z. B. {dup!r}).")
    if cells[columns].isna().any().any():
        raise SchemaError("Die Zellen haben fehlende Werte in den Zählspalten; tragen Sie 0 "
                          "ein.")

    member = _membership(cells, units, rule)
    if multiple == "first":
        coo = member.tocoo()
        order = np.lexsort((coo.col, coo.row))
        r, c, v = coo.row[order], coo.col[order], coo.data[order]
        if rule == "centre":
            first = np.r_[True, r[1:] != r[:-1]]
            r, c, v = r[first], c[first], v[first]
        else:
            # area shares: cap each cell's running total at 1, in unit order
            cum = np.cumsum(v)
            start = np.r_[True, r[1:] != r[:-1]]
            offset = np.maximum.accumulate(np.where(start, cum - v, 0.0))
            capped = np.minimum(cum - offset, 1.0)
            v = np.diff(np.r_[0.0, capped])
            v[start] = capped[start]
        member = sparse.csr_array((v, (r, c)), shape=member.shape)
    values = cells[columns].to_numpy(dtype=float)
    sums = member.T @ values
    rowsum = np.asarray(member.sum(axis=1)).ravel()
    integer = all(pd.api.types.is_integer_dtype(cells[c]) for c in columns) and bool(
        np.allclose(member.data, 1.0))

    out = pd.DataFrame(index=pd.Index(units[unit_id].to_numpy(), name=unit_id))
    for k in keep:
        out[k] = units[k].to_numpy()
    out["n_zellen"] = np.asarray(member.sum(axis=0)).ravel()
    if rule == "centre":
        out["n_zellen"] = out["n_zellen"].round().astype("int64")
    for j, col in enumerate(columns):
        out[col] = np.round(sums[:, j]).astype("int64") if integer else sums[:, j]
    if total is not None:
        base = out[total].to_numpy(dtype=float)
        for col in columns:
            if col == total:
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"anteil_{col}_prozent"] = np.where(
                    base > 0, 100.0 * out[col].to_numpy(dtype=float) / base, np.nan)

    pers = cells[total].to_numpy(dtype=float) if total is not None else np.zeros(len(cells))
    none = rowsum <= 1e-12
    many = rowsum > 1 + 1e-9
    out.attrs = {k: cells.attrs[k] for k in ("quelle", "lizenz", "stand") if k in cells.attrs}
    out.attrs["audit"] = {
        "regel": "Zellmittelpunkt in der Einheit" if rule == "centre"
        else "Flächenanteil der Zelle in der Einheit",
        "mehrfach": "in jeder Einheit gezählt" if multiple == "all"
        else "nur in der ersten Einheit gezählt",
        "zellen": len(cells),
        "personen": float(pers.sum()),
        "zellen_ohne_einheit": int(none.sum()),
        "personen_ohne_einheit": float((pers * np.clip(1.0 - rowsum, 0.0, 1.0)).sum()),
        "zellen_mehrfach": int(many.sum()),
        "personen_mehrfach": float((pers * np.clip(rowsum - 1.0, 0.0, None)).sum()),
        "personen_zugeordnet": float((pers * rowsum).sum()),
    }
    if integer:
        for key in ("personen", "personen_ohne_einheit", "personen_mehrfach",
                    "personen_zugeordnet"):
            out.attrs["audit"][key] = round(out.attrs["audit"][key])
    a = out.attrs["audit"]
    if a["zellen_ohne_einheit"] or a["zellen_mehrfach"]:
        logger.info("Zellen je Einheit: %d Zellen (%s Personen) in keiner Einheit, %d in "
                    "mehreren",
                    a["zellen_ohne_einheit"], a["personen_ohne_einheit"], a["zellen_mehrfach"])
    return out


def compare_shares(
    first: pd.Series,
    second: pd.Series,
    *,
    names: tuple[str, str] = ("2011", "2016"),
    note: str = "",
) -> pd.DataFrame:
    """Two shares (per cent) of the same units side by side with the change in points.

    Parameters
    ----------
    first, second : pandas.Series
        Shares in per cent, indexed by unit (e.g. the Zensus 2011 non-German share per Bezirk
        from :func:`aggregate_cells` and the 2016 share printed by the city).
    names : (str, str), default ("2011", "2016")
        Labels of the two dates, used in the column names.
    note : str
        German remark stored in every row (e.g. that census and register count differently).

    Returns
    -------
    pandas.DataFrame
        Index of ``first`` (units missing in ``second`` get NaN): ``anteil_<a>_prozent``,
        ``anteil_<b>_prozent``, ``veraenderung_pp`` (second minus first, percentage points),
        ``hinweis``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = compare_shares(pd.Series([10.0, 5.0], index=[1, 2]),
    ...                    pd.Series([12.5, 4.0], index=[1, 2]))
    >>> t["veraenderung_pp"].tolist()
    [2.5, -1.0]
    """
    a, b = names
    second = second.reindex(first.index)
    return pd.DataFrame({
        f"anteil_{a}_prozent": first.astype(float),
        f"anteil_{b}_prozent": second.astype(float),
        "veraenderung_pp": second.astype(float) - first.astype(float),
        "hinweis": note,
    }, index=first.index)
