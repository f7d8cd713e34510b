"""Helpers shared by the parser tests."""
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from thermal.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
FEWER = settings(FUZZ, max_examples=60)
ROUND_TRIP = settings(FUZZ, max_examples=50)


def expect_error(fn, path, line, *fragments):
    """Call ``fn``; it must raise one InputError reading ``path:line: ...`` on a single line."""
    with pytest.raises(InputError) as info:
        fn()
    msg = str(info.value)
    assert "\n" not in msg
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert msg.startswith(where), msg
    for f in fragments:
        assert f in msg, msg
    return msg


def write_file(tmp_path, name, content):
    """Write ``content`` (str or bytes) to ``tmp_path / name``."""
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return p
