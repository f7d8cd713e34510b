"""Many floorplans in one command: ``thermesh batch INPUT --task solve|compare|predict --out DIR``.

Inputs (:func:`read_cases`, in :mod:`thermal.app.batch.cases`)
    A directory of ``.flp`` files (each with a same-stem ``.ptrace``, and optionally a same-stem
    ``.toml`` of model parameters read like ``--config``), a quoted glob of ``.flp`` files (same
    rules), or a CSV manifest: a header with ``flp`` and ``ptrace`` and optionally ``name``,
    ``config``, ``conductivity``, ``thickness``, ``htc``, ``ambient``, ``mesh``, ``tol``,
    ``resolution``, one row per case, paths relative to the manifest's folder. A malformed
    manifest is an :class:`~thermal.errors.InputError` (``file:line: problem``) before anything
    runs; a case whose files are missing or broken is a failed case, never a crash.

Parameters of a case, later ones overriding earlier ones: those in a JSON floorplan, the batch's
``--config``, the case's own ``.toml`` (or manifest ``config``), the batch's flags, the case's
manifest columns.

Running (:func:`run_batch`, in :mod:`thermal.app.batch.run`)
    Each case runs in :func:`run_case`, which never raises: an error becomes a failed row with a
    one-line message; the task itself is the CLI's (:mod:`thermal.app.tasks`). A case's outputs
    are written into a hidden temporary folder beside ``OUT/cases/NAME`` and renamed into
    place once complete, with a ``case.json`` holding the
    summary row, the options and fingerprints (SHA-256) of the input files: a killed batch
    leaves no half-written case, and rerunning the same command skips every case whose
    ``case.json`` says it finished with the same options and inputs (failed cases and cases
    whose options or files changed run again). Cases run in this process (``workers=1``), in
    ``workers`` local processes (loky, the process pool joblib uses; native thread pools held
    to one thread per process), or on a dask.distributed cluster (``scheduler``: an address or
    a ``Client``; inputs and ``OUT`` must then be on a filesystem the workers see at the same
    paths).

Outputs (:func:`write_summary`, in :mod:`thermal.app.batch.summary`)
    ``OUT/summary.csv`` and ``OUT/summary.json`` (one row per case, written atomically) and
    ``OUT/report.html`` + ``report.md`` (counts, distributions, a table of cases, the
    failures).
"""
from __future__ import annotations

import time
from pathlib import Path

from thermal.app.batch.cases import TASKS, Case, build_options, fingerprint, load_case, read_cases
from thermal.app.batch.run import can_fork, finished_row, one_line, run_batch, run_case
from thermal.app.batch.summary import counts, report_sections, write_summary
from thermal.errors import InputError
from thermal.app.tasks import predict_to, solve_to

__all__ = ["Case", "TASKS", "read_cases", "build_options", "run_case", "run_batch", "main_batch",
           "solve_to", "predict_to", "load_case", "write_summary", "report_sections", "finished_row",
           "fingerprint", "counts", "one_line", "can_fork"]


def main_batch(args) -> int:
    """CLI entry: ``thermesh batch INPUT --out DIR [--task T] [--workers N | --scheduler ADDR]``.

    Returns
    -------
    int
        0 if every case is ok (or finished earlier), 1 if any failed. Bad input (the manifest,
        the batch's ``--config`` or flags, a missing dask) raises :class:`InputError` before
        anything is written, which the CLI reports as one line with exit status 2.
    """
    from thermal.app.config import build_model, read_config
    from thermal.app.inputs import check_model_options

    start = time.perf_counter()
    options = build_options(args)
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise InputError(args.out, "--out exists and is not a directory")
    cases = read_cases(args.input)
    check_model_options(options)
    if options["model"] == "lumped":
        config = read_config(options["config"]) if options["config"] else {}
        try:
            build_model(config, options["parameters"])
        except InputError as exc:
            raise InputError("command line", exc.problem) from None
    rows = run_batch(cases, args.out, args.task, options, workers=getattr(args, "workers", 1),
                     scheduler=getattr(args, "scheduler", None),
                     progress=getattr(args, "progress", True))
    c = counts(rows)
    print(f"{c['ok']} ok, {c['failed']} failed, {c['skipped']} skipped (finished) in "
          f"{time.perf_counter() - start:.1f} s; summary in {Path(args.out) / 'summary.csv'}")
    return 1 if c["failed"] else 0
