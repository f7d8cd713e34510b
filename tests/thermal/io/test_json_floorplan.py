"""thermesh JSON floorplans: schema checks with line numbers, units, parameters, round trips."""
from __future__ import annotations

import json
import string

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thermal.errors import InputError
from tests.thermal.io.helpers import EXAMPLES, FUZZ, FEWER, expect_error, write_file
from thermal.geometry.floorplan import Floorplan, PowerMap
from thermal.io import read_hotspot, read_json, write_json


def write(tmp_path, content, name="f.json"):
    return write_file(tmp_path, name, content)


HEAD = '{\n"format": "thermesh-floorplan",\n"version": 1,\n"blocks": [\n'  # blocks from line 5
GOOD_A = '{"name": "a", "x": 0, "y": 0, "width": 1, "height": 1, "power": 1}'
TAIL = "\n]\n}\n"


def doc(*blocks: str, head: str = HEAD, tail: str = TAIL) -> str:
    return head + ",\n".join(blocks) + tail


# ---------------------------------------------------------------------- good files
def test_ev6_json_matches_hotspot():
    fj, params = read_json(EXAMPLES / "ev6.json")
    fh = read_hotspot(EXAMPLES / "ev6.flp", EXAMPLES / "gcc.ptrace")
    assert params == {}
    assert fj.names == fh.names and len(fj.names) == 30
    assert fj.total_power == pytest.approx(40.21, abs=0.01)
    np.testing.assert_array_equal(fj.block_power, fh.block_power)
    for a in ("x0", "y0", "x1", "y1"):
        np.testing.assert_array_equal(getattr(fj.blocks, a), getattr(fh.blocks, a))
    assert fj.source == fj.power_source == str(EXAMPLES / "ev6.json")


@pytest.mark.parametrize("units,scale", [("m", 1.0), ("mm", 1e-3), ("um", 1e-6)])
def test_units(tmp_path, units, scale):
    head = HEAD.replace('"version": 1,', f'"version": 1, "units": "{units}",')
    block = '{"name": "a", "x": 2, "y": 3, "width": 4, "height": 5, "power": 6}'
    fp, _ = read_json(write(tmp_path, doc(block, head=head)), snap=False)
    np.testing.assert_allclose([fp.blocks.x0[0], fp.blocks.y0[0], fp.blocks.width[0],
                                fp.blocks.height[0]], np.array([2, 3, 4, 5]) * scale, rtol=1e-15)
    assert fp.total_power == 6.0  # power is never scaled


def test_parameters(tmp_path):
    tail = '\n],\n"parameters": {"htc": 2e4, "ambient": 300, "thickness": 0.0005}\n}\n'
    _, params = read_json(write(tmp_path, doc(GOOD_A, tail=tail)))
    assert params == {"htc": 2e4, "ambient": 300.0, "thickness": 5e-4}
    assert all(type(v) is float for v in params.values())


def test_braces_inside_names_do_not_confuse_lines(tmp_path):
    b1 = '{"name": "{[a,]}", "x": 0, "y": 0, "width": 1, "height": 1, "power": 1}'
    b2 = '{"name": "b\\"}", "x": 1, "y": 0, "width": 1, "height": 1, "power": "hot"}'
    p = write(tmp_path, doc(b1, b2))
    expect_error(lambda: read_json(p), p, 6, "power of block 'b\"}' must be a number")


# ---------------------------------------------------------------------- bad files
BAD_BLOCK = '{"name": "b", "x": 1, "y": 0, "width": 1, "height": 1, "power": 1}'
CASES = [
    # (document, line, fragment)
    ("", 1, "invalid JSON"),
    ('{"format": "thermesh-floorplan",\n\n "version": 1,,\n}', 3, "invalid JSON"),
    (doc(GOOD_A, BAD_BLOCK + ","), 7, "invalid JSON"),  # trailing comma
    ("[1, 2]", 1, "expected a JSON object"),
    ('\n\n  "text"', 3, "expected a JSON object"),
    ('{"format": "thermesh-floorplan", "version": 1}', 1, "the top level has no 'blocks'"),
    (doc(GOOD_A).replace('"version": 1,', '"version": 1,\n"colour": "red",'), 4,
     'unknown key "colour" in the top level'),
    (doc(GOOD_A).replace("thermesh-floorplan", "hotspot"), 2, "not a thermesh floorplan"),
    (doc(GOOD_A).replace('"version": 1', '"version": 2'), 3, "unsupported version 2"),
    (doc(GOOD_A).replace('"version": 1', '"version": true'), 3, "unsupported version true"),
    (doc(GOOD_A).replace('"version": 1', '"version": 1.0'), 3, "unsupported version 1.0"),
    (doc(GOOD_A).replace('"version": 1,', '"version": 1,\n"units": "inch",'), 4,
     'units must be "m", "mm" or "um", got "inch"'),
    (doc(GOOD_A).replace('"version": 1,', '"version": 1,\n"version": 1,'), 4,
     "duplicate key 'version' in the top level (also on line 3)"),
    ('{"format": "thermesh-floorplan", "version": 1,\n"blocks": {}}', 2,
     '"blocks" must be an array'),
    ('{"format": "thermesh-floorplan", "version": 1,\n"blocks": []}', 2, "no blocks"),
    (doc(GOOD_A, "\n[1, 2]"), 7, "block 2 must be an object"),
    (doc(GOOD_A, BAD_BLOCK.replace('"width"', '"widht"')), 6,
     "unknown key \"widht\" in block 2 (did you mean 'width'?)"),
    (doc(GOOD_A, BAD_BLOCK.replace('"power": 1', '"power": 1, "Power": 2')), 6,
     'unknown key "Power"'),
    (doc(GOOD_A, BAD_BLOCK.replace(', "power": 1', '')), 6, "block 2 has no 'power'"),
    (doc(GOOD_A, '{\n"x": 1, "y": 0, "width": 1, "height": 1, "power": 1}'), 6,
     "block 2 has no 'name'"),
    (doc(GOOD_A, BAD_BLOCK.replace('"y": 0', '"y": 0, "y": 0')), 6, "duplicate key 'y'"),
    (doc(GOOD_A, BAD_BLOCK.replace('"name": "b"', '"name": 7')), 6,
     "name of block 2 must be a string, got a number"),
    (doc(GOOD_A, BAD_BLOCK.replace('"width": 1', '"width": true')), 6,
     "width of block 'b' must be a number, got true"),
    (doc(GOOD_A, BAD_BLOCK.replace('"x": 1', '"x": "1"')), 6, "x of block 'b' must be a number"),
    (doc(GOOD_A, BAD_BLOCK.replace('"x": 1', '"x": null')), 6, "got null"),
    (doc(GOOD_A, BAD_BLOCK.replace('"height": 1', '"height": NaN')), 6,
     "height of block 'b' is not finite"),
    (doc(GOOD_A, BAD_BLOCK.replace('"height": 1', '"height": 1e999')), 6, "is not finite"),
    (doc(GOOD_A, BAD_BLOCK.replace('"height": 1', '"height": 1' + "0" * 400)), 6, "out of range"),
    (doc(GOOD_A, BAD_BLOCK.replace('"power": 1', '"power": -0.5')), 6,
     "power of block 'b' is negative"),
    (doc(GOOD_A, BAD_BLOCK.replace('"width": 1', '"width": -1')), 6, "non-positive width"),
    (doc(GOOD_A, BAD_BLOCK.replace('"x": 1', '"x": 0.5')), 6, "overlap"),
    (doc(GOOD_A, BAD_BLOCK.replace('"name": "b"', '"name": "a"')), 6, "duplicate block name"),
    (doc(GOOD_A, BAD_BLOCK.replace('"name": "b"', '"name": "a b"')), 6, "white space"),
    (doc(GOOD_A, BAD_BLOCK.replace('"name": "b"', '"name": "b\\u0007"')), 6, "control character"),
    (doc(GOOD_A, tail='\n],\n"parameters": {"htc": 1e4,\n"conductivty": 5}\n}'), 8,
     'unknown key "conductivty" in "parameters" (did you mean'),
    (doc(GOOD_A, tail='\n],\n"parameters": {"htc": -1e4}\n}'), 7,
     "parameter 'htc' must be positive"),
    (doc(GOOD_A, tail='\n],\n"parameters": {"htc": "1e4"}\n}'), 7,
     "parameter 'htc' must be a number"),
    (doc(GOOD_A, tail='\n],\n"parameters": [1]\n}'), 7, '"parameters" must be an object'),
]


@pytest.mark.parametrize("content,line,fragment", CASES)
def test_bad_json(tmp_path, content, line, fragment):
    p = write(tmp_path, content)
    expect_error(lambda: read_json(p), p, line, fragment)


def test_bad_json_without_line(tmp_path):
    p = write(tmp_path, doc('{"name": "a", "x": 0, "y": 0, "width": 1, "height": 1, "power": 0}'))
    expect_error(lambda: read_json(p), p, None, "total power is zero")
    expect_error(lambda: read_json(tmp_path / "missing.json"), tmp_path / "missing.json", None,
                 "cannot read")
    p = write(tmp_path, b'{"format": "thermesh-floorplan",\n"\x00"}', "bin.json")
    expect_error(lambda: read_json(p), p, 2, "binary")
    p = write(tmp_path, "[" * 100_000, "deep.json")
    expect_error(lambda: read_json(p), p, None, "invalid JSON")


# ---------------------------------------------------------------------- writing
def test_round_trip_exact(tmp_path):
    rng = np.random.default_rng(5)
    n = 40
    w = rng.random(n) / 3 + 0.01
    x = np.concatenate([[0.0], np.cumsum(w)[:-1]])
    fp = Floorplan.from_blocks([f"b{i}" for i in range(n)], x, np.zeros(n), w,
                               np.full(n, 0.7), rng.random(n) * 5 / 3, snap=False)
    params = {"conductivity": 150.0, "ambient": 300.15}
    write_json(tmp_path / "r.json", fp, params)
    # The file holds exactly the floorplan's numbers ...
    raw = json.loads((tmp_path / "r.json").read_text())
    blocks = raw["blocks"]
    assert [b["name"] for b in blocks] == list(fp.names)
    np.testing.assert_array_equal([b["x"] for b in blocks], fp.blocks.x0)
    np.testing.assert_array_equal([b["width"] for b in blocks], fp.blocks.width)
    np.testing.assert_array_equal([b["power"] for b in blocks], fp.block_power)
    # ... and reads back to the same floorplan (x1 = x0 + width may differ by an ulp).
    fq, pq = read_json(tmp_path / "r.json", snap=False)
    assert pq == params and fq.names == fp.names
    np.testing.assert_array_equal(fq.blocks.x0, fp.blocks.x0)
    np.testing.assert_array_equal(fq.block_power, fp.block_power)
    np.testing.assert_allclose(fq.blocks.x1, fp.blocks.x1, rtol=1e-15)


def test_one_block_per_line(tmp_path):
    fp, _ = read_json(EXAMPLES / "ev6.json")
    write_json(tmp_path / "o.json", fp)
    lines = (tmp_path / "o.json").read_text().splitlines()
    assert sum('"name"' in ln for ln in lines) == 30
    assert lines[5].lstrip().startswith('{"name": "L2_left"')


def test_write_json_refuses_power_map_and_bad_parameters(tmp_path):
    fp = Floorplan.from_blocks(["a"], [0], [0], [1], [1], power_map=PowerMap(np.ones((2, 2))))
    with pytest.raises(ValueError, match="power map"):
        write_json(tmp_path / "m.json", fp)
    fp, _ = read_json(EXAMPLES / "ev6.json")
    with pytest.raises(ValueError):
        write_json(tmp_path / "p.json", fp, {"conductivty": 1.0})
    with pytest.raises(ValueError):
        write_json(tmp_path / "p.json", fp, {"htc": float("nan")})


# ---------------------------------------------------------------------- properties
NAME = st.text(string.printable.strip() + "\u00e9\u4e2d", min_size=1, max_size=10).filter(
    lambda s: not any(c.isspace() for c in s))


@FEWER
@given(data=st.data())
def test_round_trip_property(tmp_path, data):
    n = data.draw(st.integers(1, 10))
    names = data.draw(st.lists(NAME, min_size=n, max_size=n, unique=True))
    w = np.array(data.draw(st.lists(st.floats(0.01, 1.0), min_size=n, max_size=n)))
    x0 = data.draw(st.floats(-1.0, 1.0))
    x = x0 + np.concatenate([[0.0], np.cumsum(w)[:-1]])
    p = np.array(data.draw(st.lists(st.floats(0.0, 1e6), min_size=n, max_size=n)))
    p[0] += 1.0
    fp = Floorplan.from_blocks(names, x, np.full(n, x0), w, np.full(n, 0.5), p, snap=False)
    write_json(tmp_path / "p.json", fp)
    fq, params = read_json(tmp_path / "p.json", snap=False)
    assert fq.names == fp.names and params == {}
    np.testing.assert_array_equal(fq.block_power, fp.block_power)
    np.testing.assert_array_equal(fq.blocks.x0, fp.blocks.x0)
    np.testing.assert_array_equal(fq.blocks.y0, fp.blocks.y0)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=8)
KEYS = st.sampled_from(["format", "version", "units", "blocks", "parameters", "name", "x", "y",
                        "width", "height", "power", "htc", "ambient", "junk"])


@FUZZ
@given(path=st.lists(st.one_of(KEYS, st.integers(0, 2)), min_size=1, max_size=3),
       value=JSON_VALUES)
def test_mutated_documents_only_input_errors(tmp_path, path, value):
    """Replace (or add) one value somewhere in a valid document: only InputError may result."""
    d = {"format": "thermesh-floorplan", "version": 1, "units": "mm",
         "blocks": [{"name": "a", "x": 0, "y": 0, "width": 1, "height": 1, "power": 1},
                    {"name": "b", "x": 1, "y": 0, "width": 1, "height": 1, "power": 2}],
         "parameters": {"htc": 1e4}}
    node = d
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    try:
        node[path[-1]] = value
    except (IndexError, TypeError):
        pass
    p = tmp_path / "m.json"
    p.write_text(json.dumps(d, indent=1))
    try:
        read_json(p)
    except InputError as e:
        assert "\n" not in str(e) and str(e).startswith(str(p))


@FUZZ
@given(text=st.text(st.sampled_from(list('{}[]":,0123456789.eE-+ \n\ttruefalsnulNaI')) |
                    st.characters(), max_size=200))
def test_garbage_text_only_input_errors(tmp_path, text):
    p = tmp_path / "g.json"
    p.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        read_json(p)
    except InputError as e:
        assert "\n" not in str(e) and str(e).startswith(str(p))


@FUZZ
@given(blob=st.binary(max_size=200))
def test_garbage_bytes_only_input_errors(tmp_path, blob):
    p = tmp_path / "g.json"
    p.write_bytes(blob)
    try:
        read_json(p)
    except InputError as e:
        assert "\n" not in str(e)
