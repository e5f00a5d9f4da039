"""Colour-vision-deficiency simulation and colour differences for the palette tests.

:func:`simulate` applies the Machado, Oliveira & Fernandes (2009) matrices for full
protanopia / deuteranopia (severity 1.0) to linear sRGB; :func:`delta_e_2000` is CIEDE2000
(Sharma, Wu & Dalal 2005) on CIELAB with the D65 white of sRGB. The tests check these against
Sharma's published test pairs.

References
----------
Machado, G. M., Oliveira, M. M., Fernandes, L. A. F. (2009): A physiologically-based model for
simulation of color vision deficiency. IEEE TVCG 15(6), 1291-1298 (Table 1, severity 1.0).
Sharma, G., Wu, W., Dalal, E. N. (2005): The CIEDE2000 color-difference formula. Color Research
and Application 30(1), 21-30.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MACHADO_2009", "delta_e_2000", "hex_to_lab", "min_adjacent_delta_e", "simulate"]

#: Machado et al. (2009) matrices, severity 1.0, for linear RGB.
MACHADO_2009 = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
}

_M_RGB_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                       [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]])
_WHITE = _M_RGB_XYZ @ np.ones(3)


def _hex_rgb(colors: list[str]) -> np.ndarray:
    return np.array([[int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)] for c in colors])


def _linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    xyz = np.clip(linear_rgb, 0, 1) @ _M_RGB_XYZ.T / _WHITE
    d = 6 / 29
    f = np.where(xyz > d**3, np.cbrt(xyz), xyz / (3 * d * d) + 4 / 29)
    return np.column_stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]),
                            200 * (f[:, 1] - f[:, 2])])


def simulate(colors: list[str], kind: str | None) -> np.ndarray:
    """CIELAB of ``colors`` (hex) as seen with ``kind`` (``None``: normal vision)."""
    lin = _linear(_hex_rgb(colors))
    if kind is not None:
        lin = lin @ MACHADO_2009[kind].T
    return _lab(lin)


def hex_to_lab(colors: list[str]) -> np.ndarray:
    return simulate(colors, None)


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference of rows of ``lab1`` and ``lab2`` (kL = kC = kH = 1)."""
    lab1, lab2 = np.atleast_2d(lab1).astype(float), np.atleast_2d(lab2).astype(float)
    l1, a1, b1 = lab1.T
    l2, a2, b2 = lab2.T
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    cm = (c1 + c2) / 2
    g = 0.5 * (1 - np.sqrt(cm**7 / (cm**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl = l2 - l1
    dc = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0, dh)
    dhh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    lm = (l1 + l2) / 2
    cmp_ = (c1p + c2p) / 2
    hs = h1p + h2p
    hm = np.where(np.abs(h1p - h2p) <= 180, hs / 2,
                  np.where(hs < 360, (hs + 360) / 2, (hs - 360) / 2))
    hm = np.where(c1p * c2p == 0, hs, hm)
    t = (1 - 0.17 * np.cos(np.radians(hm - 30)) + 0.24 * np.cos(np.radians(2 * hm))
         + 0.32 * np.cos(np.radians(3 * hm + 6)) - 0.20 * np.cos(np.radians(4 * hm - 63)))
    d_theta = 30 * np.exp(-(((hm - 275) / 25) ** 2))
    rc = 2 * np.sqrt(cmp_**7 / (cmp_**7 + 25.0**7))
    sl = 1 + 0.015 * (lm - 50) ** 2 / np.sqrt(20 + (lm - 50) ** 2)
    sc = 1 + 0.045 * cmp_
    sh = 1 + 0.015 * cmp_ * t
    rt = -np.sin(np.radians(2 * d_theta)) * rc
    return np.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2
                   + rt * (dc / sc) * (dhh / sh))


def min_adjacent_delta_e(colors: list[str], kind: str | None) -> float:
    """Smallest CIEDE2000 difference between neighbouring classes under ``kind``."""
    lab = simulate(colors, kind)
    return float(delta_e_2000(lab[:-1], lab[1:]).min())
