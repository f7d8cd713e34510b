"""Power maps: CSV and .npy reading, orientation, refusal of pickles, round trips."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from thermal.errors import InputError
from tests.thermal.io.helpers import EXAMPLES, FUZZ, FEWER, expect_error, write_file
from thermal.io import read_flp_with_power_map, read_power_map, write_power_map


write = write_file


def npy_bytes(arr, **kw) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, **kw)
    return buf.getvalue()


# ---------------------------------------------------------------------- CSV
def test_csv_separators_and_comments(tmp_path):
    p = write(tmp_path, "m.csv", "# top row first\n1, 2 ,3\n\n4,5,6  # trailing\n")
    pm = read_power_map(p)
    np.testing.assert_array_equal(pm.watts, [[1, 2, 3], [4, 5, 6]])
    assert pm.watts.dtype == float and pm.source == str(p)
    q = write(tmp_path, "m.txt", "1\t2 3\n4 5\t 6\n")
    np.testing.assert_array_equal(read_power_map(q).watts, [[1, 2, 3], [4, 5, 6]])


def test_first_row_is_top_of_die(tmp_path):
    # Two blocks: 'bottom' is y in [0, 1], 'top' is y in [1, 2].
    flp = write(tmp_path, "tb.flp", "bottom 1 1 0 0\ntop 1 1 0 1\n")
    m = write(tmp_path, "tb.csv", "3\n1\n")
    fp = read_flp_with_power_map(flp, m)
    np.testing.assert_allclose(fp.block_power, [1.0, 3.0])
    assert fp.power_source == str(m)


def test_ev6_with_power_map(tmp_path):
    write_power_map(tmp_path / "m.csv", np.arange(12.0).reshape(3, 4))
    fp = read_flp_with_power_map(EXAMPLES / "ev6.flp", tmp_path / "m.csv")
    assert fp.total_power == pytest.approx(66.0)


BAD_CSV = [
    ("", None, "empty power map"),
    ("# nothing\n\n", None, "empty power map"),
    ("1,2,3\n4,5\n", 2, "2 values, but the first row (line 1) has 3"),
    ("1 2\n\n3 4 5\n", 3, "3 values"),
    ("1,2\n3,,4\n", 2, "3 values"),
    ("1,2\n3,\n", 2, "column 2 is empty"),
    ("1;2\n", 1, "column 1 is not a number: '1;2'"),
    ("# c\n1 2 3\n4 five 6\n", 3, "column 2 is not a number: 'five'"),
    ("1 2\n3 nan\n", 2, "power in column 2 is not finite (nan)"),
    ("1 2\n-inf 3\n", 2, "power in column 1 is not finite"),
    ("1 2\n3 4\n5 -1e-3\n", 3, "power in column 2 is negative (-1e-3)"),
    (b"1 2\n3 4\n\x00", 3, "binary"),
    (b"1 2\n\xff\xfe\n", 2, "not UTF-8"),
]


@pytest.mark.parametrize("content,line,fragment", BAD_CSV)
def test_bad_csv(tmp_path, content, line, fragment):
    p = write(tmp_path, "bad.csv", content)
    expect_error(lambda: read_power_map(p), p, line, fragment)


def test_missing_files(tmp_path):
    for name in ("none.csv", "none.npy"):
        expect_error(lambda: read_power_map(tmp_path / name), tmp_path / name, None, "cannot read")


def test_zero_map_rejected_by_floorplan(tmp_path):
    m = write(tmp_path, "z.csv", "0 0\n0 0\n")
    expect_error(lambda: read_flp_with_power_map(EXAMPLES / "ev6.flp", m), m, None,
                 "total power is zero")


# ---------------------------------------------------------------------- .npy
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.uint8, ">f8"])
def test_npy_numeric_dtypes(tmp_path, dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    p = write(tmp_path, "m.npy", npy_bytes(a))
    pm = read_power_map(p)
    assert pm.watts.dtype == np.float64
    np.testing.assert_array_equal(pm.watts, a.astype(float))


class Canary:
    """Unpickling this creates ``marker``: proof that code from the file ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickled_npy_refused_and_not_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    arr = np.empty((1, 1), dtype=object)
    arr[0, 0] = Canary(marker)
    p = tmp_path / "evil.npy"
    np.save(p, arr, allow_pickle=True)
    expect_error(lambda: read_power_map(p), p, None, "refused", "object dtype")
    assert not marker.exists()
    # The canary is live: loading unsafely would have run it.
    np.load(p, allow_pickle=True)
    assert marker.exists()


def test_raw_pickle_named_npy_refused(tmp_path):
    import pickle

    marker = tmp_path / "unpickled"
    p = write(tmp_path, "raw.npy", pickle.dumps(Canary(marker)))
    expect_error(lambda: read_power_map(p), p, None, "not a NumPy .npy file")
    assert not marker.exists()


BAD_NPY = [
    (np.ones(4), "must be 2-D (rows, columns), got shape (4,)"),
    (np.ones((2, 2, 2)), "must be 2-D"),
    (np.ones((0, 3)), "empty power map"),
    (np.ones((2, 2), dtype=bool), "not dtype bool"),
    (np.ones((2, 2), dtype=complex), "not dtype complex128"),
    (np.array([["1", "2"]]), "not dtype <U1"),
    (np.zeros((2, 2), dtype=[("a", "f8"), ("b", "f8")]), "integers or floats"),
    (np.array([[1.0, np.nan]]), "row 1, column 2 is not finite"),
    (np.array([[1.0, 2.0], [np.inf, 0.0]]), "row 2, column 1 is not finite"),
    (np.array([[1.0, 2.0], [0.0, -3.0]]), "row 2, column 2 is negative"),
]


@pytest.mark.parametrize("arr,fragment", BAD_NPY)
def test_bad_npy(tmp_path, arr, fragment):
    p = write(tmp_path, "bad.npy", npy_bytes(arr))
    expect_error(lambda: read_power_map(p), p, None, fragment)


def test_damaged_npy(tmp_path):
    good = npy_bytes(np.ones((100, 100)))
    p = write(tmp_path, "trunc.npy", good[:500])
    expect_error(lambda: read_power_map(p), p, None, "corrupt .npy")
    header = good[:good.index(b"\n") + 1].replace(b"(100, 100)", b"(10**9, 9)")
    p = write(tmp_path, "hdr.npy", header + good[len(header):])
    expect_error(lambda: read_power_map(p), p, None, "corrupt .npy")
    p = write(tmp_path, "text.npy", "1,2\n3,4\n")
    expect_error(lambda: read_power_map(p), p, None, "not a NumPy .npy file")
    p = tmp_path / "a.npz"
    np.savez(p, a=np.ones((2, 2)))
    expect_error(lambda: read_power_map(p), p, None, ".npz")


@pytest.mark.parametrize("shape", [b"(100000, 100000)", b"(4000000000, 4000000000)", b"(3, 2)"])
def test_shape_bigger_than_file_refused_before_allocating(tmp_path, shape):
    good = npy_bytes(np.ones((2, 2)))
    end = good.index(b"\n") + 1
    header = good[:end].replace(b"(2, 2)", shape)
    p = write(tmp_path, "huge.npy", header + good[end:])
    expect_error(lambda: read_power_map(p), p, None, "header claims shape")


# ---------------------------------------------------------------------- round trips
@pytest.mark.parametrize("name", ["m.csv", "m.npy", "m.txt"])
def test_round_trip_exact(tmp_path, name):
    w = np.random.default_rng(2).random((7, 5)) / 3
    w[0, 0], w[1, 1] = 0.0, 5e-324
    write_power_map(tmp_path / name, w)
    assert (tmp_path / name).exists()
    np.testing.assert_array_equal(read_power_map(tmp_path / name).watts, w)


def test_write_refuses_non_2d(tmp_path):
    with pytest.raises(ValueError):
        write_power_map(tmp_path / "x.csv", np.ones(3))


MAPS = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                  elements=st.floats(0.0, 1e300))


@FEWER
@given(w=MAPS, ext=st.sampled_from([".csv", ".npy"]))
def test_round_trip_property(tmp_path, w, ext):
    p = tmp_path / f"p{ext}"
    write_power_map(p, w)
    np.testing.assert_array_equal(read_power_map(p).watts, w)


@FUZZ
@given(text=st.text(st.sampled_from(list("0123456789 ,\t\n#.-+eEinfa_")) | st.characters(),
                    max_size=200))
def test_garbage_csv_only_input_errors(tmp_path, text):
    p = tmp_path / "g.csv"
    p.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        read_power_map(p)
    except InputError as e:
        assert "\n" not in str(e) and str(e).startswith(str(p))


@FEWER
@given(blob=st.binary(max_size=200), keep=st.integers(0, 200),
       arr=hnp.arrays(hnp.scalar_dtypes(), hnp.array_shapes(max_dims=3, max_side=3)))
def test_garbage_npy_only_input_errors(tmp_path, blob, keep, arr):
    """Random bytes, and valid .npy files of any dtype cut short or followed by garbage."""
    p = tmp_path / "g.npy"
    for content in (blob, b"\x93NUMPY" + blob, npy_bytes(arr)[:keep] + blob, npy_bytes(arr)):
        p.write_bytes(content)
        try:
            read_power_map(p)
        except InputError as e:
            assert "\n" not in str(e) and str(e).startswith(str(p))
