"""temperature.png and hotspots.png: drawn without matplotlib (thermal.app.png), valid PNGs that show
the field."""
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from thermal.app import png
from thermal.geometry.floorplan import Floorplan
from thermal.geometry.lumped import LumpedDie
from thermal.app.plots import RASTER, plot_prediction, plot_temperature, write_field

ROOT = Path(__file__).resolve().parents[3]


def read_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(tag, data) of every chunk, checking the signature and every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        tag, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(tag + body), tag
        chunks.append((tag, body))
        at += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    return chunks


def png_size(path) -> tuple[int, int]:
    """(width, height) from the IHDR of a PNG file (8-bit RGB expected)."""
    chunks = read_chunks(Path(path).read_bytes())
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour) == (8, 2)
    return width, height


def read_rgb(path) -> np.ndarray:
    from matplotlib.image import imread

    return np.rint(imread(path)[:, :, :3] * 255).astype(int)


def field_box(rgb: np.ndarray, shape: tuple[int, int]) -> tuple[int, int]:
    """(column, row) of the field's top-left pixel, inside its one-pixel black frame: the
    first row with a run of nx + 2 pure-black pixels (the colour table has no pure black)."""
    ny, nx = shape
    black = (rgb == 0).all(axis=2)
    for row in np.flatnonzero(black.sum(1) >= nx + 2):
        for col in np.flatnonzero(black[row]):
            if black[row, col:col + nx + 2].all():
                assert black[row + ny + 1, col:col + nx + 2].all()  # the bottom side
                return col + 1, row + 1
    raise AssertionError("no frame around the field")


def hot_left_floorplan() -> Floorplan:
    """An 8 x 4 mm die: a hot block on the left, an unpowered one on the right."""
    return Floorplan.from_blocks(["hot", "cold"], [0.0, 4e-3], [0.0, 0.0], [4e-3, 4e-3],
                                 [4e-3, 4e-3], [20.0, 1e-9])


@pytest.fixture(scope="module")
def solution():
    from thermal.app.simulate import solve

    return solve(hot_left_floorplan(), LumpedDie(), resolution=48)


def test_encode_png_round_trips_exactly(tmp_path):
    from matplotlib.image import imread

    rng = np.random.default_rng(0)
    for shape in [(7, 5), (7, 5, 3), (9, 4, 4), (1, 1, 3)]:
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        pixels[:shape[0] // 2] = pixels[0]  # repeated rows too (zero after the Up filter)
        path = tmp_path / f"{len(shape)}-{shape[-1]}.png"
        png.write_png(path, pixels, text={"Title": "round trip"})
        back = np.rint(imread(path) * 255).astype(np.uint8)
        assert back.shape == pixels.shape and np.array_equal(back, pixels)
        tags = [tag for tag, _ in read_chunks(path.read_bytes())]
        assert tags == [b"IHDR", b"tEXt", b"IDAT", b"IEND"]
    with pytest.raises(ValueError):
        png.encode_png(np.zeros((2, 2, 3)))


def test_colour_table_is_matplotlibs_inferno():
    import matplotlib

    expected = matplotlib.colormaps["inferno"].resampled(256)(np.arange(256), bytes=True)[:, :3]
    assert np.array_equal(png.INFERNO, expected)
    rgb = png.colorize(np.array([0.0, 0.5, 1.0, np.nan]), 0.0, 1.0)
    assert np.array_equal(rgb[:3], png.INFERNO[[0, 128, 255]]) and tuple(rgb[3]) == png.GREY


def test_font_covers_ascii_and_text_has_ink():
    widths = [png.text_width(chr(c)) for c in range(32, 127)]
    assert all(w > 0 for w in widths)
    assert png.text_width("peak 439.46 K") > png.text_width("peak")
    canvas = png.Canvas(120, 30)
    canvas.text(4, 4, "Temperature (K)", va="top")
    canvas.text(4, 25, "\u00b5 non-ASCII", va="bottom")  # drawn as '?', no error
    assert (canvas.rgb < 128).any()


@pytest.mark.parametrize("lo, hi, count", [(0.0, 16.0, 8), (318.2, 439.5, 8), (1.0, 1.0004, 4),
                                           (-3.0, 2.0, 5)])
def test_nice_ticks_are_round_and_inside(lo, hi, count):
    ticks, decimals = png.nice_ticks(lo, hi, count)
    assert 2 <= len(ticks) <= 2 * count
    assert ticks[0] >= lo - 1e-9 and ticks[-1] <= hi + 1e-9
    labels = [f"{t:.{decimals}f}" for t in ticks]
    assert len(set(labels)) == len(labels)


def test_temperature_png_shows_the_field(solution, tmp_path):
    path = tmp_path / "temperature.png"
    plot_temperature(solution, path)
    width, height = png_size(path)
    rgb = read_rgb(path)
    assert rgb.shape == (height, width, 3)
    fp = solution.floorplan
    x0, y0, x1, y1 = fp.die
    ny, nx = png.field_shape([x0 * 1e3, x1 * 1e3, y0 * 1e3, y1 * 1e3], RASTER)
    assert (ny, nx) == (RASTER // 2, RASTER)  # 8 x 4 mm
    assert width > nx + 100 and height > ny + 40  # room for axes, colour bar, title
    left, top = field_box(rgb, (ny, nx))
    field = rgb[top:top + ny, left:left + nx]
    # the colour of each pixel is an entry of the table: its index orders the temperatures
    index = np.argmin(((field[:, :, None, :] - png.INFERNO[None, None].astype(int)) ** 2).sum(-1), axis=2)
    hot, cold = index[ny // 4:3 * ny // 4, nx // 8:3 * nx // 8], index[ny // 4:3 * ny // 4, -3 * nx // 8:-nx // 8]
    assert hot.mean() > cold.mean() + 100
    assert index.max() >= 250 and index.min() <= 5  # the whole range, min to max
    assert np.ptp(field.reshape(-1, 3), axis=0).max() > 150
    # the block outline between the blocks: a light vertical line in mid-field
    middle = field[ny // 8:-ny // 8, nx // 2]
    assert (middle.min(axis=1) > 60).all()
    # the range is also recorded as text
    chunks = dict(read_chunks(path.read_bytes())[1:-2])
    comment = chunks[b"tEXt"].decode("latin-1")
    assert comment.startswith("Comment\0Temperature (K): min")


def test_field_as_array_or_function_gives_the_same_picture(solution, tmp_path):
    """A function is sampled every SAMPLE_STEP pixels and interpolated; an array at the
    pixels is shown as it is: the pictures agree to a few colour levels."""
    from thermal.app.plots import field_raster

    fp = solution.floorplan
    image, _ = field_raster(solution.rise_on_grid, fp)
    write_field(tmp_path / "a.png", image, fp, offset=300.0, title="t")
    write_field(tmp_path / "f.png", solution.rise_on_grid, fp, offset=300.0, title="t")
    a, f = read_rgb(tmp_path / "a.png"), read_rgb(tmp_path / "f.png")
    assert a.shape == f.shape
    assert np.abs(a - f).max() <= 12 and np.abs(a - f).mean() < 0.5


def test_prediction_png(tmp_path):
    fp = hot_left_floorplan()
    ys, xs = np.mgrid[0:4e-3:17j, 0:8e-3:33j]
    rise = 50 * np.exp(-((xs - 2e-3) ** 2 + (ys - 2e-3) ** 2) / 2e-6)
    hotspots = [{"x": 2e-3, "y": 2e-3, "temperature": 368.15}, {"x": 8e-3, "y": 4e-3, "temperature": 320.0}]
    plot_prediction(SimpleNamespace(rise=rise), fp, LumpedDie(), hotspots, tmp_path / "hotspots.png")
    width, height = png_size(tmp_path / "hotspots.png")
    assert read_rgb(tmp_path / "hotspots.png").shape == (height, width, 3)


def test_odd_fields_and_floorplans_do_not_fail():
    fp = Floorplan.from_blocks(["\u03a9", "b"], [0.0, 0.0], [0.0, 10e-3], [1e-3, 1e-3],
                               [10e-3, 10e-3], [1.0, 2.0])  # a tall, thin die
    image = np.full((40, 4), 5.0)
    image[3:9] = np.nan
    rgb = png.field_picture(image, [0, 1, 0, 20], boxes=[[0, 0, 1, 10], [0, 10, 1, 20]],
                            names=fp.names, title="a title much wider than the die " * 3,
                            markers=[{"x": 1.0, "y": 20.0, "label": "corner"}])
    assert rgb.dtype == np.uint8 and rgb.shape[0] > RASTER and rgb.shape[1] > png.text_width("a title " * 3)
    assert (rgb == png.GREY).all(axis=2).sum() > 100  # NaN shown grey


def test_solve_writes_png_without_importing_matplotlib(tmp_path):
    """The solve path draws temperature.png with numpy and zlib only: importing matplotlib
    (above all matplotlib.pyplot) costs more than a small solve."""
    code = (
        "import sys\n"
        "from thermal.app.cli import main\n"
        f"main(['solve', {str(ROOT / 'examples' / 'ev6.flp')!r}, '--power', "
        f"{str(ROOT / 'examples' / 'gcc.ptrace')!r}, '--resolution', '40', '--out', {str(tmp_path / 'out')!r}])\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    width, height = png_size(tmp_path / "out" / "temperature.png")
    assert width > RASTER and height > RASTER
