"""The cases of a batch: :class:`Case`, :func:`read_cases` (a directory, a glob or a CSV
manifest, validated before anything runs), :func:`build_options`, the fingerprints that decide
which cases rerun, and :func:`load_case`."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from thermal.errors import InputError
from thermal.geometry.lumped import PARAMETERS

#: What a batch can do to each case.
TASKS = ("solve", "compare", "predict")
#: Manifest columns: required, and optional (per-case overrides).
MANIFEST_REQUIRED = ("flp", "ptrace")
MANIFEST_OPTIONAL = ("name", "config", *PARAMETERS, "mesh", "tol", "resolution")
#: Case folder names: letters, digits, ``.``, ``_``, ``-``; never starting with ``.`` (temporary
#: folders do) and at most this long.
NAME_LENGTH = 100
_SAFE_NAME = re.compile(rf"[A-Za-z0-9_-][A-Za-z0-9._-]{{0,{NAME_LENGTH - 1}}}")


@dataclass
class Case:
    """One floorplan of a batch.

    Attributes
    ----------
    name : str
        Unique, filesystem-safe: the case's folder is ``OUT/cases/NAME``.
    flp : str
        Absolute path of the floorplan (``.flp``, or ``.json`` from a manifest).
    ptrace : str or None
        Absolute path of the power file, ``None`` if there is none.
    config : str or None
        The case's own TOML parameter file (a same-stem ``.toml`` or the manifest's ``config``).
    params : dict
        Manifest overrides: model parameters, ``mesh``, ``tol``, ``resolution``.
    problem : str or None
        A problem known before running (e.g. no ``.ptrace`` beside the ``.flp``): the case
        fails with it.
    origin : str
        Where the case was listed (``manifest.csv:4``, a directory or a pattern).
    """

    name: str
    flp: str
    ptrace: str | None
    config: str | None = None
    params: dict = field(default_factory=dict)
    problem: str | None = None
    origin: str = ""


def read_cases(input: str | Path) -> list[Case]:
    """The cases of a batch input.

    Parameters
    ----------
    input : str or Path
        A directory (every ``*.flp`` in it, not recursive), a glob pattern of ``.flp`` files
        (``**`` recurses), a CSV manifest (``.csv``) or a single ``.flp``.

    Returns
    -------
    list of Case
        In input order (sorted paths for directories and globs). Names are the file stems made
        filesystem-safe and unique (``x``, ``x-2``...), or the manifest's ``name``.

    Raises
    ------
    InputError
        The input does not exist, holds or matches no ``.flp``, or is a malformed manifest
        (missing, unknown or duplicate column, ragged row, bad number, bad or duplicate name).
    """
    text = str(input)
    path = Path(text).expanduser()
    if path.is_dir():
        flps = sorted(p for p in path.iterdir() if p.suffix.lower() == ".flp" and p.is_file())
        if not flps:
            raise InputError(path, "no .flp files in this directory")
        return _from_flps(flps, str(path))
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return _from_manifest(path)
        if suffix == ".flp":
            return _from_flps([path], str(path))
        raise InputError(path, "expected a directory of .flp files, a quoted glob of .flp files "
                         "or a CSV manifest (.csv)")
    if re.search(r"[*?\[]", text):
        import glob

        matches = sorted(Path(p) for p in glob.glob(os.path.expanduser(text), recursive=True))
        flps = [p for p in matches if p.suffix.lower() == ".flp" and p.is_file()]
        if not flps:
            raise InputError(text, "no .flp files match this pattern")
        return _from_flps(flps, text)
    raise InputError(text, "no such file or directory")


def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).lstrip(".")[:NAME_LENGTH]
    return name or "case"


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``... : the first not in ``taken`` (case-insensitively,
    for case-insensitive filesystems); added to ``taken``."""
    candidate, k = name, 1
    while candidate.lower() in taken:
        k += 1
        suffix = f"-{k}"
        candidate = name[:NAME_LENGTH - len(suffix)] + suffix
    taken.add(candidate.lower())
    return candidate


def _from_flps(flps: Sequence[Path], origin: str) -> list[Case]:
    cases, taken = [], set()
    for flp in flps:
        flp = flp.resolve()
        ptrace, toml = flp.with_suffix(".ptrace"), flp.with_suffix(".toml")
        problem = None if ptrace.is_file() else f"no power trace {ptrace.name} beside it"
        cases.append(Case(_unique(_safe_name(flp.stem), taken), str(flp),
                          str(ptrace) if problem is None else None,
                          str(toml) if toml.is_file() else None, {}, problem, origin))
    return cases


def _manifest_value(column: str, cell: str, path: Path, line: int) -> Any:
    """A manifest cell converted and checked by the same rules as the command-line flags."""
    import argparse

    from thermal.app.options import mesh_method, positive_int, positive_number, relative_tolerance

    convert = {"tol": relative_tolerance, "resolution": positive_int, "mesh": mesh_method}
    try:
        return convert.get(column, positive_number)(cell)
    except argparse.ArgumentTypeError as exc:
        raise InputError(path, f"'{column}': {exc}", line) from None


def _from_manifest(path: Path) -> list[Case]:
    """Cases from a CSV manifest; see :func:`read_cases`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read manifest: {exc.__class__.__name__}: {exc}") from None
    if "\0" in text:
        raise InputError(path, "not a text file (contains NUL bytes)")
    folder = path.resolve().parent
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields) or fields[0].lstrip().startswith("#"):
                continue
            cells = [f.strip() for f in fields]
            if header is None:
                header = [c.lower() for c in cells]
                _check_header(header, path, line)
                continue
            if len(cells) != len(header):
                raise InputError(path, f"expected {len(header)} fields ({','.join(header)}), "
                                 f"got {len(cells)}", line)
            rows.append((line, dict(zip(header, cells))))
    except csv.Error as exc:
        raise InputError(path, f"not valid CSV: {exc}", reader.line_num) from None
    if header is None:
        raise InputError(path, "empty manifest: expected a header with columns flp,ptrace")
    if not rows:
        raise InputError(path, "no cases: the manifest has a header but no rows")

    explicit: dict[str, int] = {}
    for line, row in rows:
        name = row.get("name", "")
        if name:
            if not _SAFE_NAME.fullmatch(name):
                raise InputError(path, f"name {name!r} is not a safe folder name (letters, digits, "
                                 f"'.', '_', '-', not starting with '.', at most {NAME_LENGTH})",
                                 line)
            if name.lower() in explicit:
                raise InputError(path, f"duplicate name {name!r} (first on line "
                                 f"{explicit[name.lower()]})", line)
            explicit[name.lower()] = line
    taken = set(explicit)
    cases = []
    for line, row in rows:
        if not row["flp"]:
            raise InputError(path, "empty 'flp'", line)
        params = {k: _manifest_value(k, v, path, line) for k, v in row.items()
                  if v and k not in ("flp", "ptrace", "name", "config")}
        flp = (folder / Path(row["flp"]).expanduser()).resolve()
        ptrace = str((folder / Path(row["ptrace"]).expanduser()).resolve()) if row["ptrace"] else None
        config = str((folder / Path(row["config"]).expanduser()).resolve()) if row.get("config") else None
        name = row.get("name") or _unique(_safe_name(flp.stem), taken)
        cases.append(Case(name, str(flp), ptrace, config, params, None, f"{path}:{line}"))
    return cases


def _check_header(header: list[str], path: Path, line: int) -> None:
    known = (*MANIFEST_REQUIRED, *MANIFEST_OPTIONAL)
    for i, column in enumerate(header):
        if column not in known:
            raise InputError(path, f"unknown column {column!r} (expected flp, ptrace and optionally "
                             f"{', '.join(MANIFEST_OPTIONAL)})", line)
        if column in header[:i]:
            raise InputError(path, f"duplicate column {column!r}", line)
    for column in MANIFEST_REQUIRED:
        if column not in header:
            raise InputError(path, f"missing column {column!r} (the header needs flp and ptrace)",
                             line)


def build_options(args) -> dict:
    """The batch-wide options of a task from parsed ``thermesh batch`` arguments.

    Parameters
    ----------
    args : argparse.Namespace
        ``task`` and the model flags, ``config``, ``no_png``; for solve ``mesh``, ``tol``,
        ``budget``, ``resolution``, ``conform``, ``verify``; for compare ``methods``,
        ``tolerances``, ``resolutions``, ``conform``; for predict ``model`` (a model file; default the shipped one). Missing attributes take the CLI's defaults.

    Returns
    -------
    dict
        JSON-compatible: ``parameters`` (flags given), ``config`` (absolute path or None),
        ``png`` (not for compare, whose report always has figures) and the task's own
        options. Recorded in every ``case.json``: a case reruns when
        they change.
    """
    from thermal.app.inputs import model_options

    task = getattr(args, "task", "solve")
    options: dict[str, Any] = model_options(args)
    options.pop("lcf")  # each case is a floorplan of its own
    if task != "compare":  # compare's report always has its figures
        options["png"] = not getattr(args, "no_png", False)
    if task == "solve":
        from thermal.app.options import MESH_DEFAULTS

        mesh, tol = MESH_DEFAULTS[options["model"]]
        options.update(mesh=getattr(args, "mesh", None) or mesh,
                       tol=float(tol if getattr(args, "tol", None) is None else args.tol),
                       budget=getattr(args, "budget", None),
                       resolution=int(getattr(args, "resolution", 200)),
                       conform=bool(getattr(args, "conform", False)),
                       verify=bool(getattr(args, "verify", False)))
    elif task == "compare":
        from thermal.app.options import COMPARE_METHODS

        options.update(methods=list(getattr(args, "methods", COMPARE_METHODS)),
                       tolerances=[float(t) for t in getattr(args, "tolerances", [2e-2, 1e-2, 5e-3, 2e-3, 1e-3])],
                       resolutions=[int(r) for r in getattr(args, "resolutions", [25, 50, 100, 200, 400])],
                       conform=bool(getattr(args, "conform", False)))
    elif task == "predict":
        model = getattr(args, "hotspot_model", None)
        options["hotspot_model"] = str(Path(model).expanduser().resolve()) if model else None
        options["predictor"] = getattr(args, "predictor", "model")
    else:
        raise ValueError(f"unknown task {task!r}: choose from {', '.join(TASKS)}")
    return _normal(options)


def _normal(data):
    """``data`` as it reads back from JSON (tuples become lists...), to compare with case.json."""
    return json.loads(json.dumps(data))


def _case_options(case: Case, task: str, options: dict) -> dict:
    """Everything that determines a case's results, as recorded in its ``case.json``."""
    return _normal({"task": task, **options, "case_config": case.config, "case_parameters": case.params})


def _sha256(path: str | None) -> str | None:
    if path is None:
        return None
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def fingerprint(case: Case, options: dict) -> dict:
    """SHA-256 of every input file of a case (``None`` for absent or unreadable ones)."""
    return {"flp": _sha256(case.flp), "ptrace": _sha256(case.ptrace),
            "case_config": _sha256(case.config), "config": _sha256(options.get("config"))}


def load_case(case: Case, options: dict):
    """The floorplan and model of a case (parameters: JSON file < ``--config`` < the case's
    TOML < flags < manifest columns)."""
    from thermal.app.config import read_config
    from thermal.app.inputs import read_problem

    if case.problem:
        raise InputError(case.flp, case.problem)
    own = read_config(case.config) if case.config else {}
    row = {k: v for k, v in case.params.items() if k in PARAMETERS}
    # The manifest's columns win over the flags: applied last.
    floorplan, model = read_problem(case.flp, case.ptrace, {**options, "lcf": None},
                                    extra_parameters=(own,))
    if row:
        floorplan, model = read_problem(case.flp, case.ptrace,
                                        {**options, "lcf": None, "parameters": {**options["parameters"], **row}},
                                        extra_parameters=(own,))
    return floorplan, model
