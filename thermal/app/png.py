"""PNG pictures of fields without matplotlib: numpy and zlib only.

``thermesh solve`` writes ``temperature.png`` on every run, and importing matplotlib and laying
out a figure cost several times the solve itself (0.5 - 1.5 s). This module draws the same
engineering picture straight into an RGB array and encodes it (:func:`encode_png`): the field
through a colour map table (:data:`INFERNO`, matplotlib's, stored here), block outlines and
names, markers, a colour bar with ticks in K, axes in mm, a title. Text comes from a built-in
antialiased bitmap font (DejaVu Sans, 9 pt at 110 dpi, printable ASCII; other characters are
drawn as ``?``). The colour table and the font are stored as zlib + base64 blobs, made by
:func:`_make_blobs` (which needs matplotlib; run it only to change them). The glyphs are
rendered from DejaVu Sans (Bitstream Vera / DejaVu fonts licence, which allows redistribution
with this notice: Copyright (c) 2003 Bitstream, Inc.; DejaVu changes are in the public domain);
the colour table is matplotlib's inferno (CC0).

:func:`field_picture` lays out the picture, :class:`Canvas` has the drawing primitives.
"""
from __future__ import annotations

import base64
import struct
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["INFERNO", "Canvas", "colorize", "encode_png", "field_picture", "field_shape", "nice_ticks",
           "resample", "text_width", "upsample", "write_png"]

# fmt: off
_INFERNO = """\
eNoBAAP//AAAAwAABAAABgEABwEBCQEBCwIBDgICEAMCEgQDFAQDFgUEGAYEGwcFHQgGHwkGIQoH
IwsHJg0IKA4IKg8JLRAJLxIKMhMKNBQLNhYLORcLOxkLPhoLQBwMQx0MRR8MRyAMSiILTCQLTiYL
UCcLUikLVCsKVi0KWC4KWjAKXDIJXTQJXzUJYDcJYTkJYjsJZDwJZT4JZkAJZkEJZ0MKaEUKaUYK
aUgLakoLaksMa00Ma08NbFANbFIObFMObVUPbVcPbVgQbVoRbVsRbl0Sbl8SbmATbmIUbmMUbmUV
bmYVbmgWbmoXbmsXbm0Ybm4YbnAZbnIZbXMabXUbbXYbbXgcbXocbXsdbH0dbH4ebIAfa4Efa4Mg
a4UgaoYhaoghaokiaYsiaY0jaY4kaJAkaJElZ5MlZ5UmZpYmZpgnZZkoZJsoZJwpY54pY6AqYqEr
YaMrYaQsYKYsX6ctX6kuXqsuXawvXK4wW68xW7ExWrIyWbQzWLUzV7c0Vrg1Vro2Vbs3VL03U744
Ur85UcE6UMI7T8Q8TsU9Tcc+TMg+S8k/SstAScxBSM1CR89ERtBFRNFGQ9JHQtRIQdVJQNZKP9dL
PtlNPdpOO9tPOtxQOd1SON5TN99UNuBWNOJXM+NYMuRaMeVbMOZcLuZeLedfLOhhK+liKupkKOtl
J+xnJu1oJe1qI+5sIu9tIfBvH/BwHvFyHfJ0HPJ1GvN3GfN5GPR6FvV8FfV+FPaAEvaBEfeDEPeF
DviHDfiIDPiKC/mMCfmOCPmQCPqRB/qTBvqVBvqXBvuZBvubBvudBvueB/ugB/uiCPukCvumC/uo
DfuqDvusEPuuEvuwFPuxFvuzGPu1Gvu3HPu5Hvq7Ifq9I/q/JfrBKPnDKvnFLPnHL/jJMfjLNPjN
N/fPOvfRPPbTP/bVQvXXRfXZSPTbS/TcT/PeUvPgVvPiWfLkXfLmYPHoZPHpaPHrbPHtcPHudPHw
efHyffLzgfL0hfP2ifT3jfX4kfb6lff7mfn8nfr9oPz+pJ/OOnw="""

_FONT = """\
eNrtWzuvHbcRXpK7fD+U/xMVblQICNIJQZpUadUYKYIUBgTEKnSLVBaSLoWLBHGX4lb5D2lSBPkx
GXLIIXfP7nnoypKdHML2ucvla2fmm/k4pH8S+K+UNtE9C1LDr4LiqCgVY7TPvPfB2RCU8jaG4IJ3
8O8z77xWOlrjnHVOOyellc9yP23hKeZq5eKLX/z68eGff/vpq1evH1/8/MXLByovXz4+Pv7mP9+8
/9Nf3n3112+/+OIPv/vHt9/9/rs/Pnz952/+/f7r969evnp8/frtw28f3v7s4d3z5189/9e7tw8P
v/zy1bs3f3/z5suHlw+P073cy73cy73cy73cSy3uhrYssvxj9F1s93Jl8Smx4dGmNJ9rrvyOiR7a
mzXbGhOTOOztzPBfva79QRcVE8+/IpXHOYXlbPuIH2c1I+Ez6No10VA/h6g6sPNfLgXZpIujVLj3
ofwNKzdFuEtIoapd+lTXLmyMDpXFQG2ePkkmi1+dcqnrgsaop1BqsYWOKWhSvBdPEvLsUxFGXWYe
muQlku8GnNqyJ6YDPMy9XvZGKYX+p6DWHptYj8Py/rD6mZMeqso45ZN1cvikS3dG4ouG0dRNJkf1
EywklE9NtWTRelRVEbhDA+EZrLLUlK8pz5MvL4Oh9c35+0Qdqny1R0EGwjqhfk6R7UBcPQX1y+mQ
nwX1H3nMJJvxNbXFW1G/+EnE7hortOPCIxielbRwx1i1k4p6hpbZJLYY5plZjrW1WclcNL0whZYv
jWiodwtMhfrSkoFxVcMQ0dttBGDR8UmSX+A4hokCxi5LsAHet5V+oM4EmDyugQc3s4nr2GzV+DZ2
tnNwQW1VYmKzo/olrvC7/hNbCyOvQP2CXzWiPhbdg6OsGGaE+iIc7lCUucdcUHxaL6rjdEFMXKnm
Y5szH1A/48KKmfGC6ZjnwrY8m6MJOIXq5obd1YB6bbaoF0m7cAp7FvgTUL9DFQ56/5hQT8Aj1M/p
VtRrPSnbTJg7YfMLHgvi5y61KAfpllFkaOEP/5hdjW7XoJ5j5MgTVyiDASw7/ixPXccKsztB/cbL
1cdip9i4DOqPpb64HSKgzLayrq3RHRF5M9pmLzUSI1qHVSE+efVBe6gfW19AvWxiGXq7zBKWYF19
MoT6OnAg7wPucL++ym2lgV3UVwtCleT/Kpu5GE4OXdhcKXX+NWHQN6quon6OG9TzPJY7JosmEyZe
IQT0rgpdhUbkDJCXCi6oRD3ZxjCGt6W32Y31c/n8+mzzJEBwq90P3TKR9PPJUlZTFOIFHBGJU6F1
efHlsfgmiYpwFbI8u2PtmrvE4FXb2KnxJd9kuUW9uIB6tUY9b0zOVpVUhl9RPzjaUSOIemtpTnYz
6tHRFBvWYQf1rD8s1Y5AWo4YfjOBsMZzVYyEWC/i0lHvcSA2/JTPBAUigdFNEOULBGxn1Bh4DIah
HKJAu6AOaSuFzP8MsR6/JaktjOvPLurH1udRr0gqI+qlz/JuqM+Op2qkDqzSBvVH9VMyF1Ff/EMV
YZ7SySyU5pidp72QCUvfU7NQ11tRP9ErFDhHcNlzaSVWnYhLigmcJnMuYXBrIpjB5atAym/hwcBb
jW8d2JxA37lBfeVz9RkkDXuOBWr5ppuOeTC+XUpfgKuuGX64FmOs76hnZTJUJ8hCxtBkk91lter8
mtEWiDfR8mbAA+rZObAFdUoX+rYehOOIgPMojBahTWXSNl5SAGVFhbcxfNzFlq9WaQf1Lf5lt4TV
S2jhGxg947YatgZ3TOxsbl4wg1hV0poZftxDvfTJHaVBGAQMSz7MVu4JY2nPmI9FbNWI0cDQoUcx
7DNW+MRoammzjH/6bevaIu2iPvWWI+qnxMGJN9RnIaEVtIEx/HYmf1SfRROd4mdRX3bwzlGLxOeA
XB9NYWCHgzdzbYPdUG/Vdl9/zX6WU/xRcU0IyyfhV5QRlRtRP7wtJmTNKeoV6o5ifVa3JZI7dBvY
47iUYQq3Buce6suACxmRVdC4CtGExpGMawF/aqtZ8VtCPRuY8SHY1gx3momIaSBMkrJ5IkxhYSgM
40UmhEs8RH3P5q3j5sHWhJ1FvR7CBO7reV6Hs9vNSgZCs9lOSHTe16O6cuLKmp1sB1i4PrvdFxDV
+ZpSJcxDZX6aSLHa9VivSsszqN+J9dg6puQuxfoQaOe7Qr3RYOSEepHELuopa9freXMzTa5sMaFZ
0D7q84asETHwAEUUjJrK1FMoKg38vKmzoX7xt6Geu9gMqkCoGLygyVBD9U3PHVbUD29xA2/cCeop
2T8085oCZe+Ggw0jlKWcTFHG1PMh6rM4azUYUBR+oc15aEvJavQtpLnQIhtZVyf2Te7F2ueJm7P5
61jxSahwS09XA2eBYY2qymHAk8d8yZbhn829LjDJ4HGq0o8Yvl6dtxTfuYwxkLzvVHJYzb7I5a3H
XYFtWFEYUL/jqTrqSR+RUC/80Iv1Oaov+hCGby+i3jOC/Qr1IsKqCPXw7pDhrybs9cvKTaUN6lHS
7RGokorkeTW880tj5uBP+k5QDjZJqm+op7zSlagvJw64youo59ts3jWoty10fDzUT0IHtKAd1MPH
NPIO3jfB5lGTEEkbQdHX6Mj7ceRprK9iVRKiZEsnnBOnmPygcle/p6S0Ss6toB69uwvjScg2m3fp
xGWVbVXTmWyeWh+yOrdG+hjri701K+ysYY16lnZXcz3DpzmR4bso8OgJyb1XW9Tfls2rXvwK1E8E
+xXqpxCnAfU8acSUO8natSA0UMYxm7dCK6EWCSel5pKkgz7jMzXMF1Y7D6CoIfuus8eKhnpindeh
vqSt6yHPRYavTnL4I/0+QL3m6xzfIeqvYPjDMQGG6hYscVRT6TuR92Qz4fYkREV70GB887XzkBm9
cV8f9U4unbrYhTnR/AQPxawrw7cRgr1O49nK5uTuCPXLakU6jcmc4eRuQP0Aeisya142qIda2NfX
iwoDw6fUni0MH08aFmCHfrqUzduQ+3U2j3rkxJVNQdZz+coBVBwYvviQkzs/M2APV6AeCFdgp6gf
nIbDhPf+yd143LmuR2H5BdYR3Aa14EXYQAdMpGi6FO4112sH4DvY1NJfvT+LQ46OUN/Oja6N9Xri
9UKHA1ifZPNMT6ZpaMakOsrmHaF+qrC/iPqczVOUzWtLGRZQ8SAMh5cSvWPbQXOwblNtn5ynz45q
FGIjTKwRZD4S5dtz+Prctp7bOCxlwe19PyOJltsR9njRZrils4v69Zkpop4ObvotnbnnuZA26wq/
6LtdVNTn2prDhxXSkkX3Fv2WDrN0H6WCd72ga07uCPUsyB0SgldUMDs3U775zC2dLePGWzqaHaK+
Zw4a7HEgt496lvZu6fgxHQ5bOz/Wy9JDZANobrAzdOHGu1L9YhJMhHEu1RfzOFHnDKl/NaGep5tQ
D2qOqjH8Cyd3MrSPUP0KFR2rHaIeYK+vQf3lkzs90TrwT3BY7UiXVjl151k2tH4QIhEmu5KhPzqv
v4D6y/cJbrktcNWNXL+jVv05bz36+cP78mDzzRRjP+mK3fcxnX7a1aUPFT7dyI3VVc6fauqDza57
woXybV/7se16/3rPrXfzPirqn6CAefqxFgV2G4z4lFOK8+cyHwzA8FkFaT6h558lY3p/78ui/OGi
ft73zHJ7Dz8u0738bxUX/7/+9ya+Pa35GC4mxv3/GWNOT+FR3zPqY1IXwsEdHfdyL/dC5b+A4rcb"""
# fmt: on


def _unpack(blob: str) -> bytes:
    return zlib.decompress(base64.b64decode("".join(blob.split())))


#: matplotlib's "inferno" colour map, 256 RGB entries (uint8), as ``cmap(i, bytes=True)``.
INFERNO = np.frombuffer(_unpack(_INFERNO), np.uint8).reshape(256, 3)

WHITE, BLACK, GREY = (255, 255, 255), (0, 0, 0), (200, 200, 200)
CYAN = (0, 255, 255)


# ------------------------------------------------------------------------------------ PNG
def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def encode_png(pixels: np.ndarray, *, text: dict | None = None, level: int = 6) -> bytes:
    """PNG bytes of an 8-bit image: (h, w) grey, (h, w, 3) RGB or (h, w, 4) RGBA, rows top
    down. ``text``: tEXt chunks (keyword -> value, Latin-1), e.g. ``{"Title": ...}``.

    Every row uses the "Up" filter (difference to the row above): smooth fields compress well
    and the filter is one numpy subtraction.
    """
    a = np.asarray(pixels)
    if a.dtype != np.uint8:
        raise ValueError(f"PNG pixels must be uint8, not {a.dtype}")
    if a.ndim == 2:
        a = a[:, :, None]
    h, w, channels = a.shape
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    rows = np.ascontiguousarray(a).reshape(h, w * channels)
    filtered = np.empty((h, w * channels + 1), np.uint8)
    filtered[:, 0] = 2
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # modulo 256, as PNG wants
    parts = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0))]
    for key, value in (text or {}).items():
        parts.append(_chunk(b"tEXt", key.encode("latin-1")[:79] + b"\0" + str(value).encode("latin-1", "replace")))
    parts += [_chunk(b"IDAT", zlib.compress(filtered.tobytes(), level)), _chunk(b"IEND", b"")]
    return b"".join(parts)


def write_png(path: str | Path, pixels: np.ndarray, **kwargs) -> None:
    """Write :func:`encode_png` of ``pixels`` to ``path``."""
    Path(path).write_bytes(encode_png(pixels, **kwargs))


def colorize(values: np.ndarray, lo: float, hi: float, lut: np.ndarray = INFERNO,
             nan=GREY) -> np.ndarray:
    """RGB (uint8) of ``values`` through the colour table ``lut`` ((n, 3) uint8) over
    [``lo``, ``hi``], binned as matplotlib does; NaN is ``nan``."""
    values = np.asarray(values, float)
    n = len(lut)
    scale = n / (hi - lo) if hi > lo else 0.0
    with np.errstate(invalid="ignore"):
        index = np.clip((values - lo) * scale, 0, n - 1)
    bad = ~np.isfinite(index)
    index[bad] = 0
    rgb = lut[index.astype(np.intp)]
    rgb[bad] = nan
    return rgb


# ----------------------------------------------------------------------------------- text
class _Font:
    """The built-in bitmap font: glyph coverage (0..1) cells of one height."""

    def __init__(self, blob: str):
        raw = _unpack(blob)
        self.height, self.ascent, self.pad, n = raw[:4]
        self.widths = np.frombuffer(raw, np.uint8, n, 4).astype(int)
        self.advances = np.frombuffer(raw, np.uint8, n, 4 + n) / 16.0
        atlas = np.frombuffer(raw, np.uint8, offset=4 + 2 * n).reshape(self.height, -1)
        starts = np.concatenate([[0], np.cumsum(self.widths)])
        self.cells = [atlas[:, a:b].astype(np.float32) / 15.0 for a, b in zip(starts[:-1], starts[1:])]
        h = self.cells[ord("H") - 32]
        #: Rows from the top of a line to the top of capitals.
        self.cap_top = int(np.flatnonzero(h.any(1))[0])

    def index(self, text: str) -> list[int]:
        return [ord(c) - 32 if 32 <= ord(c) < 127 else ord("?") - 32 for c in text]

    def layout(self, text: str) -> tuple[list[int], np.ndarray, int]:
        """Glyph indices, left edge of each cell, and the width of the text (pixels)."""
        idx = self.index(text)
        pen = np.concatenate([[0.0], np.cumsum(self.advances[idx])])
        left = np.rint(pen[:-1]).astype(int)  # a cell's origin is ``pad`` columns into it
        width = int(np.ceil(pen[-1])) if idx else 0
        return idx, left, width

    def mask(self, text: str) -> np.ndarray:
        """Coverage (height, width) of one line of ``text``; the pen starts at column ``pad``."""
        idx, left, width = self.layout(text)
        out = np.zeros((self.height, width + 2 * self.pad + 4), np.float32)
        for i, x in zip(idx, left):
            cell = self.cells[i]
            view = out[:, x:x + cell.shape[1]]
            np.maximum(view, cell[:, :view.shape[1]], out=view)
        return out


@lru_cache(maxsize=1)
def _font() -> _Font:
    return _Font(_FONT)


def text_width(text: str) -> int:
    """Width of ``text`` in the built-in font, pixels."""
    return _font().layout(text)[2]


def _dilate(mask: np.ndarray, r: int = 1) -> np.ndarray:
    out = np.pad(mask, r)
    grown = out.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            np.maximum(grown[r:-r, r:-r], out[r + dy:out.shape[0] - r + dy, r + dx:out.shape[1] - r + dx],
                       out=grown[r:-r, r:-r])
    return grown


def _marker(kind: str, size: float, width: float) -> np.ndarray:
    """Antialiased coverage of a marker centred in an odd square patch."""
    r = int(np.ceil(size / 2 + width))
    d = np.arange(-r, r + 1, dtype=np.float32)
    dx, dy = d[None, :], d[:, None]
    half = width / 2 + 0.5
    if kind == "x":
        dist = np.minimum(abs(dx - dy), abs(dx + dy)) / np.sqrt(2)
        ends = np.clip(size / 2 + 0.5 - np.maximum(abs(dx), abs(dy)), 0, 1)
        return np.clip(half - dist, 0, 1) * ends
    if kind == "+":
        dist = np.minimum(abs(dx), abs(dy))
        ends = np.clip(size / 2 + 0.5 - np.maximum(abs(dx), abs(dy)), 0, 1)
        return np.clip(half - dist, 0, 1) * ends
    if kind == "o":
        return np.clip(half - abs(np.hypot(dx, dy) - size / 2), 0, 1)
    raise ValueError(f"unknown marker {kind!r}")


# --------------------------------------------------------------------------------- canvas
class Canvas:
    """An RGB picture (uint8, rows top down) with a few antialiased drawing primitives.

    Coordinates are pixels: ``x`` the column, ``y`` the row from the top. Everything is
    clipped to the picture.
    """

    def __init__(self, width: int, height: int, background=WHITE):
        self.rgb = np.empty((height, width, 3), np.uint8)
        self.rgb[:] = background

    @property
    def width(self) -> int:
        return self.rgb.shape[1]

    @property
    def height(self) -> int:
        return self.rgb.shape[0]

    def _clip(self, x: int, y: int, w: int, h: int):
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, self.width), min(y + h, self.height)
        return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None

    def paint(self, x: int, y: int, coverage: np.ndarray, color, alpha: float = 1.0) -> None:
        """Blend ``color`` over the pixels under ``coverage`` (2-D, 0..1; top-left at x, y)."""
        h, w = coverage.shape
        box = self._clip(x, y, w, h)
        if box is None:
            return
        x0, y0, x1, y1 = box
        a = coverage[y0 - y:y1 - y, x0 - x:x1 - x, None] * np.float32(alpha)
        region = self.rgb[y0:y1, x0:x1]
        region[:] = region + a * (np.asarray(color, np.float32) - region) + 0.5

    def fill(self, x0: int, y0: int, x1: int, y1: int, color) -> None:
        """Fill columns x0..x1-1 of rows y0..y1-1."""
        box = self._clip(x0, y0, x1 - x0, y1 - y0)
        if box is not None:
            self.rgb[box[1]:box[3], box[0]:box[2]] = color

    def blit(self, x: int, y: int, rgb: np.ndarray) -> None:
        h, w = rgb.shape[:2]
        box = self._clip(x, y, w, h)
        if box is not None:
            x0, y0, x1, y1 = box
            self.rgb[y0:y1, x0:x1] = rgb[y0 - y:y1 - y, x0 - x:x1 - x]

    def frame(self, x0: int, y0: int, x1: int, y1: int, color=BLACK) -> None:
        """A one-pixel rectangle just outside columns x0..x1-1, rows y0..y1-1."""
        self.fill(x0 - 1, y0 - 1, x1 + 1, y0, color)
        self.fill(x0 - 1, y1, x1 + 1, y1 + 1, color)
        self.fill(x0 - 1, y0, x0, y1, color)
        self.fill(x1, y0, x1 + 1, y1, color)

    def text(self, x: float, y: float, text: str, color=BLACK, *, ha: str = "left",
             va: str = "baseline", rotate: bool = False, halo=None, halo_alpha: float = 0.6) -> tuple:
        """Write one line of ``text`` anchored at (x, y): ``ha`` left/center/right,
        ``va`` top/center (of capitals)/baseline/bottom; ``rotate``: reading upwards (the
        anchors then refer to the rotated box, baseline meaning center). ``halo``: colour of a
        one-pixel outline. Returns the box (x0, y0, x1, y1) written."""
        font = _font()
        mask = font.mask(text)
        width = text_width(text)
        pad = font.pad
        if not rotate:
            ox = {"left": 0, "center": width / 2, "right": width}[ha] + pad
            oy = {"top": 0, "center": (font.cap_top + font.ascent) / 2, "baseline": font.ascent,
                  "bottom": font.height}[va]
        else:
            mask = np.rot90(mask)  # reading upwards: the text's start is at the bottom
            ox = {"left": 0, "center": font.height / 2, "right": font.height}[ha]
            cx = mask.shape[0] - pad  # row of the pen start after rotation
            oy = {"top": cx - width, "center": cx - width / 2, "baseline": cx - width / 2,
                  "bottom": cx}[va]
        left, top = int(round(x - ox)), int(round(y - oy))
        if halo is not None:
            self.paint(left - 1, top - 1, _dilate(mask), halo, halo_alpha)
        self.paint(left, top, mask, color)
        h, w = mask.shape
        return left, top, left + w, top + h

    def marker(self, x: float, y: float, kind: str = "x", color=CYAN, *, size: float = 11,
               width: float = 2.0, halo=None) -> None:
        """A marker ("x", "+" or "o", ``size`` pixels across) centred on (x, y)."""
        patch = _marker(kind, size, width)
        r = patch.shape[0] // 2
        if halo is not None:
            self.paint(int(round(x)) - r - 1, int(round(y)) - r - 1, _dilate(patch), halo, 0.5)
        self.paint(int(round(x)) - r, int(round(y)) - r, patch, color)


# --------------------------------------------------------------------------------- layout
def nice_ticks(lo: float, hi: float, count: int = 6) -> tuple[np.ndarray, int]:
    """At most about ``count`` round values in [lo, hi] (steps 1, 2, 2.5, 5 x 10^k) and the
    decimals to print them with."""
    if not hi > lo:
        return np.array([lo]), 2
    raw = (hi - lo) / max(count, 1)
    mag = 10.0 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    first = np.ceil(lo / step - 1e-9)
    ticks = (first + np.arange(int(np.floor(hi / step + 1e-9) - first) + 1)) * step
    decimals = max(0, -int(np.floor(np.log10(step) + 1e-9)) + (1 if step / mag == 2.5 else 0))
    return ticks, decimals


def _label(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text  # no "-0.0"


def resample(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` at ``shape`` by nearest neighbour (pixel centres), as imshow shows it."""
    ny, nx = image.shape
    rows = ((np.arange(shape[0]) + 0.5) * ny / shape[0]).astype(np.intp)
    cols = ((np.arange(shape[1]) + 0.5) * nx / shape[1]).astype(np.intp)
    return image[np.ix_(np.minimum(rows, ny - 1), np.minimum(cols, nx - 1))]


def upsample(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` (values at cell centres) at ``shape`` by bilinear interpolation between the
    cell centres (constant beyond the outer ones); NaN spreads to its neighbours."""
    def weights(n: int, m: int):
        at = np.clip((np.arange(m) + 0.5) * n / m - 0.5, 0, n - 1)
        low = np.minimum(at.astype(np.intp), max(n - 2, 0))
        return low, np.minimum(low + 1, n - 1), (at - low).astype(np.float32)

    r0, r1, fr = weights(image.shape[0], shape[0])
    c0, c1, fc = weights(image.shape[1], shape[1])
    image = np.asarray(image, np.float64)
    top, bottom = image[r0], image[r1]
    rows = top + (bottom - top) * fr[:, None]
    return rows[:, c0] + (rows[:, c1] - rows[:, c0]) * fc


def field_shape(extent, pixels: int) -> tuple[int, int]:
    """(rows, columns) of a field of ``extent`` drawn ``pixels`` along its longer side; the
    grid :func:`thermal.app.plots.field_raster` samples."""
    x0, x1, y0, y1 = extent
    scale = pixels / max(x1 - x0, y1 - y0)
    return max(2, int((y1 - y0) * scale)), max(2, int((x1 - x0) * scale))


def _outline_mask(boxes: np.ndarray, extent, shape) -> np.ndarray:
    """Pixels (rows top down) on the sides of ``boxes`` ((n, 4): x0, y0, x1, y1), without
    the die's own border; each pixel once however many sides cross it."""
    ny, nx = shape
    x0, x1, y0, y1 = extent
    bx0, by0, bx1, by1 = np.asarray(boxes, float).reshape(-1, 4).T
    col = (np.r_[bx0, bx1] - x0) * nx / (x1 - x0)  # pixel boundaries of the vertical sides
    left, right = (bx0 - x0) * nx / (x1 - x0), (bx1 - x0) * nx / (x1 - x0)
    row = (y1 - np.r_[by0, by1]) * ny / (y1 - y0)  # of the horizontal sides
    top, bottom = (y1 - by1) * ny / (y1 - y0), (y1 - by0) * ny / (y1 - y0)
    mask = np.zeros(shape, bool)
    # A side at the pixel boundary e from a to b (along it) is the line of pixels rint(e),
    # from rint(a) to rint(b) inclusive (so sides meet at corners), drawn by a difference
    # array along the lines.
    for edges, a, b, vertical in ((col, np.r_[top, top], np.r_[bottom, bottom], True),
                                  (row, np.r_[left, left], np.r_[right, right], False)):
        n_across, n_along = (nx, ny) if vertical else (ny, nx)
        inner = (edges > 0.5) & (edges < n_across - 0.5)
        at = np.clip(np.rint(edges[inner]).astype(int), 0, n_across - 1)
        start = np.clip(np.rint(a[inner]).astype(int), 0, n_along)
        stop = np.clip(np.rint(b[inner]).astype(int) + 1, 0, n_along)
        diff = np.zeros((n_along + 1, n_across), np.int32)
        np.add.at(diff, (start, at), 1)
        np.add.at(diff, (stop, at), -1)
        lines = np.cumsum(diff[:-1], axis=0) > 0
        mask |= lines if vertical else lines.T
    return mask


def field_picture(image: np.ndarray, extent, *, boxes=None, names=(), markers=(), title: str = "",
                  label: str = "Temperature (K)", pixels: int = 600, lut: np.ndarray = INFERNO,
                  vmin: float | None = None, vmax: float | None = None,
                  max_labels: int = 80) -> np.ndarray:
    """RGB picture (uint8, rows top down) of a field over a rectangle.

    Parameters
    ----------
    image : (ny, nx) array
        Values at cell centres, row 0 at the bottom (``imshow(origin="lower")``); NaN grey.
        Shown ``pixels`` along the longer side (:func:`field_shape`), resampled by nearest
        neighbour unless it already has that shape.
    extent : (x0, x1, y0, y1)
        The rectangle, in axis units (mm).
    boxes : (n, 4) array, optional
        Rectangles (x0, y0, x1, y1) to outline in white; ``names`` are written inside those
        they fit in (at most ``max_labels`` boxes).
    markers : sequence of dict
        ``x``, ``y`` (axis units), optional ``kind`` ("x", "o", "+"), ``color`` (RGB),
        ``size`` (px), ``label`` (written beside it, inside the field).
    title, label : str
        Above the field; along the colour bar.
    vmin, vmax : float, optional
        Colour range; default the finite range of ``image``.
    """
    font = _font()
    line = font.height
    x0, x1, y0, y1 = (float(v) for v in extent)
    ny, nx = field_shape(extent, pixels)
    image = np.asarray(image, float)
    if image.shape != (ny, nx):
        image = resample(image, (ny, nx))
    finite = image[np.isfinite(image)]
    lo = float(finite.min()) if vmin is None and finite.size else (0.0 if vmin is None else float(vmin))
    hi = float(finite.max()) if vmax is None and finite.size else (1.0 if vmax is None else float(vmax))
    if not hi > lo:
        lo, hi = lo - 0.5, lo + 0.5

    xt, xdec = nice_ticks(x0, x1, max(2, nx // 75))
    yt, ydec = nice_ticks(y0, y1, max(2, ny // 75))
    ct, cdec = nice_ticks(lo, hi, max(4, ny // 75))
    ylabels = [_label(v, ydec) for v in yt]
    clabels = [_label(v, cdec) for v in ct]
    tick, gap, bar = 4, 3, 18
    left = 8 + line + 4 + max(map(text_width, ylabels)) + gap + tick
    top = 10 + line + 6 if title else 12
    bottom = tick + gap + line + 2 + line + 6
    right = 24 + bar + tick + gap + max(map(text_width, clabels)) + 6 + line + 8
    extra = max(0, text_width(title) + 16 - (left + nx + right))  # a title wider than the rest
    left += extra // 2
    width = left + nx + right + extra - extra // 2
    canvas = Canvas(width, top + ny + bottom)

    # the field, outlines, names
    field = colorize(image[::-1], lo, hi, lut)
    if boxes is not None and len(boxes):
        boxes = np.asarray(boxes, float).reshape(-1, 4)
        on = _outline_mask(boxes, (x0, x1, y0, y1), (ny, nx))
        field[on] = (field[on] * 0.3 + 255 * 0.7 + 0.5).astype(np.uint8)
    canvas.blit(left, top, field)
    sx, sy = nx / (x1 - x0), ny / (y1 - y0)

    def px(x):  # column of x
        return left + (x - x0) * sx

    def py(y):  # row of y
        return top + (y1 - y) * sy

    if boxes is not None and len(boxes) and 0 < len(names) <= max_labels:
        need = font.ascent - font.cap_top + 4
        for (bx0, by0, bx1, by1), name in zip(boxes, names):
            if (bx1 - bx0) * sx >= text_width(name) + 4 and (by1 - by0) * sy >= need:
                canvas.text(px((bx0 + bx1) / 2), py((by0 + by1) / 2), name, WHITE, ha="center",
                            va="center", halo=BLACK)
    # axes
    canvas.frame(left, top, left + nx, top + ny)
    for v in xt:
        c = int(np.clip(round(px(v)), left, left + nx - 1))
        canvas.fill(c, top + ny + 1, c + 1, top + ny + 1 + tick, BLACK)
        canvas.text(c, top + ny + tick + gap, _label(v, xdec), ha="center", va="top")
    for v, text in zip(yt, ylabels):
        r = int(np.clip(round(py(v)), top, top + ny - 1))
        canvas.fill(left - 1 - tick, r, left - 1, r + 1, BLACK)
        canvas.text(left - 1 - tick - gap, r, text, ha="right", va="center")
    canvas.text(left + nx / 2, top + ny + tick + gap + line + 2, "x (mm)", ha="center", va="top")
    canvas.text(extra // 2 + 8, top + ny / 2, "y (mm)", ha="left", va="center", rotate=True)
    # markers last, over the frame: a peak on the die's edge stays visible
    for m in markers:
        mx, my = px(m["x"]), py(m["y"])
        color = m.get("color", CYAN)
        canvas.marker(mx, my, m.get("kind", "x"), color, size=m.get("size", 11), halo=BLACK)
        if m.get("label"):
            # beside the marker, on the side that keeps it inside the field
            tw = text_width(m["label"])
            right_side = mx + 8 + tw <= left + nx
            below = my - 8 - line < top
            canvas.text(mx + 8 if right_side else mx - 8, my + 6 if below else my - 6, m["label"], color,
                        ha="left" if right_side else "right", va="top" if below else "bottom",
                        halo=BLACK)

    if title:
        half = text_width(title) / 2
        canvas.text(min(max(left + nx / 2, half + 8), width - half - 8), 10, title, ha="center", va="top")

    # colour bar: the table from lo (bottom) to hi (top), ticks in the field's units
    bx = left + nx + 24
    levels = lo + (hi - lo) * (ny - 0.5 - np.arange(ny)) / ny
    canvas.blit(bx, top, np.repeat(colorize(levels, lo, hi, lut)[:, None], bar, axis=1))
    canvas.frame(bx, top, bx + bar, top + ny)
    for v, text in zip(ct, clabels):
        r = int(np.clip(round(top + (hi - v) / (hi - lo) * ny), top, top + ny - 1))
        canvas.fill(bx + bar + 1, r, bx + bar + 1 + tick, r + 1, BLACK)
        canvas.text(bx + bar + 1 + tick + gap, r, text, ha="left", va="center")
    canvas.text(left + nx + right - 8, top + ny / 2, label, ha="right", va="center", rotate=True)
    return canvas.rgb


# ------------------------------------------------------------------------------ the blobs
def _make_blobs(size_pt: float = 9.0, dpi: int = 110, pad: int = 2) -> str:
    """Source text of ``_INFERNO`` and ``_FONT`` (needs matplotlib; development only).

    The font: each printable ASCII character drawn by matplotlib's Agg renderer with DejaVu
    Sans at ``size_pt`` and ``dpi``, cut to the font's ascent + descent, coverage in 4 bits;
    after a header (height, ascent, pad, count), the cells' widths, the advances in 1/16 px,
    then the cells side by side.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties, findfont
    from matplotlib.ft2font import FT2Font

    def wrap(raw: bytes) -> str:
        s = base64.b64encode(zlib.compress(raw, 9)).decode()
        return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))

    lut = matplotlib.colormaps["inferno"].resampled(256)(np.arange(256), bytes=True)[:, :3]
    prop = FontProperties(family="DejaVu Sans", size=size_pt)
    font = FT2Font(findfont(prop))
    font.set_size(size_pt, dpi)
    em = size_pt * dpi / 72 / font.units_per_EM
    ascent, descent = int(np.ceil(font.ascender * em)), int(np.ceil(-font.descender * em))
    base = 30  # baseline row of the scratch picture
    cells, widths, advances = [], [], []
    for code in range(32, 127):
        renderer = RendererAgg(48, 48, dpi)
        gc = renderer.new_gc()
        gc.set_foreground("k")
        renderer.draw_text(gc, pad, base, chr(code), prop, 0)
        alpha = np.asarray(renderer.buffer_rgba())[:, :, 3]
        assert not alpha[:base - ascent].any() and not alpha[base + descent:].any(), chr(code)
        advance = font.load_char(code).linearHoriAdvance / 65536
        cols = np.flatnonzero(alpha.any(0))
        w = max(cols.max() + 1 if cols.size else 0, pad + int(np.ceil(advance)))
        cells.append(alpha[base - ascent:base + descent, :w] >> 4)
        widths.append(w)
        advances.append(round(advance * 16))
    head = bytes([ascent + descent, ascent, pad, len(cells)]) + bytes(widths) + bytes(advances)
    font_raw = head + np.concatenate(cells, axis=1).astype(np.uint8).tobytes()
    return (f'_INFERNO = """\\\n{wrap(np.ascontiguousarray(lut).tobytes())}"""\n\n'
            f'_FONT = """\\\n{wrap(font_raw)}"""\n')
