"""Static charts: the segregation profile figure."""

from __future__ import annotations

import pytest

from gis_planning._errors import InputError, OutputExistsError
from gis_planning.analysis.lattice import segregation_profile
from gis_planning.data.sources import essen_zensus
from gis_planning.outputs import plots


def test_segregation_profile_figure_and_save(tmp_path):
    prof = segregation_profile(essen_zensus.load_zensus2011(), distances=(100, 500, 2000))
    fig = plots.segregation_profile_figure(prof)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Bandbreite des Kerns (m)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["100", "500", "2.000"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("Dissimilarität") and "9,5 %" in labels[2]
    d_line = ax.get_lines()[0]
    assert list(d_line.get_ydata()) == pytest.approx(prof["dissimilarity"].tolist())
    assert any("Zensus 2011" in t.get_text() for t in fig.texts)
    out = plots.save_figure(fig, tmp_path / "profil.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(OutputExistsError):
        plots.save_figure(fig, out)
    with pytest.raises(InputError, match="Endung"):
        plots.save_figure(fig, tmp_path / "profil.jpg")
    with pytest.raises(InputError, match="leer"):
        plots.segregation_profile_figure(prof.iloc[:0])
