"""The census grid in the atlas: image overlays of real cell values, not one vector per cell."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from gis_planning.outputs.atlas import section_zensus
from gis_planning.outputs.webmap import Atlas


def test_zensus_group_draws_cells_as_images_with_legends(catalog):
    atlas = Atlas(title="t", bounds=catalog.load("stadtteile"), basemap=False)
    section_zensus(atlas, catalog)
    group = catalog.schema("zensus2011").label
    names = [n for n, _ in atlas._groups[group]]
    assert names == ["Anteil Nichtdeutsche je 100-m-Zelle", "Hotspots Gi* der 250-m-Zellen"]
    assert all(atlas.feature_counts[n] == ("image", 1) for n in names)
    assert set(names) <= set(atlas.legends)
    html = atlas.render(mode="cdn")
    assert "Zensus 2011, © Statistisches Bundesamt (Destatis)" in html
    # the share image: coloured cells where people live, transparent elsewhere
    uri = html.split("data:image/png;base64,")[1].split('"')[0]
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri))))
    alpha = img[..., 3]
    assert 0.1 < (alpha > 0).mean() < 0.9
    assert atlas.layer_sizes[names[0]] < 150_000  # one image, not 10,010 polygons
