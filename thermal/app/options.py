"""Command-line argument types and the defaults of the mesh options, shared by the command line
and batch runs (which build their options from the same parsed arguments)."""
from __future__ import annotations

import argparse
import math


def _argument_type(name: str, convert, kind: str, ok, rule: str):
    """An argparse type: ``convert`` the text, then check it (argparse reports exit status 2)."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {kind}: {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{rule}, got {text}")
        return value

    parse.__name__ = parse.__qualname__ = name
    parse.__doc__ = f"argparse type: {kind} that {rule.replace('must be', 'is')}."
    return parse


positive_int = _argument_type("positive_int", int, "an integer", lambda v: v >= 1, "must be at least 1")


positive_number = _argument_type("positive_number", float, "a number",
                                 lambda v: math.isfinite(v) and v > 0, "must be positive and finite")


def init_state(text: str):
    """argparse type of ``--init``: ``ambient``, ``steady``, a temperature in K (positive and
    finite), or a path (a block file or a result folder; checked when it is read)."""
    if text in ("ambient", "steady"):
        return text
    try:
        value = float(text)
    except ValueError:
        return text
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"a temperature must be positive and finite (K), got {text}")
    return value


relative_tolerance = _argument_type("relative_tolerance", float, "a number", lambda v: 0 < v < 1,
                                    "must be between 0 and 1 (relative to the peak rise)")


#: Defaults of --mesh and --tol per model. A stack is meshed adaptively (its cheap physics sizes
#: the mesh) to 0.5 % of the peak rise: on ev6 under HotSpot's package that is an estimated
#: 0.14 K, ten times below the error of HotSpot's own default grid, in about 2 s. The lumped
#: die keeps a uniform mesh of 200 cells (adaptive methods aim at 0.1 %).
MESH_DEFAULTS = {"stack": ("adaptive", 5e-3), "lumped": ("uniform", 1e-3)}


def mesh_defaults(model, mesh: str | None, tol: float | None) -> tuple[str, float]:
    """The mesh method and tolerance a run uses: as given, else :data:`MESH_DEFAULTS`."""
    from thermal.geometry.stack import Stack

    default_mesh, default_tol = MESH_DEFAULTS["stack" if isinstance(model, Stack) else "lumped"]
    return mesh or default_mesh, default_tol if tol is None else tol


def tolerance_list(text: str) -> list[float]:
    """argparse type: comma-separated relative tolerances, e.g. ``1e-2,5e-3,1e-3``."""
    return [relative_tolerance(t) for t in text.split(",") if t.strip()]


def resolution_list(text: str) -> list[int]:
    """argparse type: comma-separated uniform resolutions, e.g. ``50,100,200``."""
    return [positive_int(t) for t in text.split(",") if t.strip()]


MESH_METHODS = ["uniform", "base", "amr", "power", "coarse", "oracle", "adaptive"]


#: The methods ``compare`` runs at every tolerance (uniform meshes run at every resolution).
COMPARE_METHODS = ["amr", "power", "coarse", "oracle", "adaptive"]


def mesh_method(text: str) -> str:
    """argparse type: one of :data:`MESH_METHODS`."""
    if text not in MESH_METHODS:
        raise argparse.ArgumentTypeError(f"unknown mesh {text!r} (choose from {', '.join(MESH_METHODS)})")
    return text


def name_list(text: str) -> list[str]:
    """Comma-separated block names."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected one or more block names separated by commas")
    return names


def method_list(text: str) -> list[str]:
    """argparse type: comma-separated adaptive methods, e.g. ``power,adaptive``."""
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in COMPARE_METHODS]
    if unknown or not methods:
        raise argparse.ArgumentTypeError(f"unknown method(s) {', '.join(unknown) or '(none)'}; "
                                         f"choose from {','.join(COMPARE_METHODS)}")
    return methods
