"""Running a batch: :func:`run_case` (one case into ``OUT/cases/NAME``, never raising) and
:func:`run_batch` (skip finished cases, run the others here, in local worker processes or on a
dask cluster, then write the summary)."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Any, Iterator, Sequence

from thermal.app.batch.cases import TASKS, Case, _case_options, fingerprint, load_case
from thermal.app.batch.summary import SAVINGS_LEVEL, write_summary
from thermal.errors import InputError
from thermal.app.tasks import compare_to, predict_to, solve_to

#: Environment variables holding native thread pools to one thread in worker processes.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
#: Longest error message kept in a row (characters).
ERROR_LENGTH = 300


def one_line(exc: BaseException) -> str:
    """An exception as one line: an :class:`InputError` as ``file:line: problem``, anything else
    as ``Type: message``; at most :data:`ERROR_LENGTH` characters."""
    from thermal.errors import ThermeshError

    text = " ".join(str(exc).split())
    if not isinstance(exc, ThermeshError):
        text = f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__
    return text if len(text) <= ERROR_LENGTH else text[:ERROR_LENGTH - 3] + "..."


def _solution_row(sol) -> dict:
    pk, info = sol.peak, sol.mesh_info
    row = {"method": info.get("method"), "elements": int(info["elements"]), "nodes": int(info["nodes"]),
           "peak_temperature_K": pk["temperature"], "peak_x_m": pk["x"], "peak_y_m": pk["y"],
           "peak_block": pk["block"], "energy_balance_rel": float(sol.energy_balance_rel)}
    row.update({k: float(v) for k, v in sol.timing.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)})
    if "verification" in sol.extra:
        row["max_error_pct"] = float(sol.extra["verification"]["max_error_pct_of_peak_rise"])
    return row


def _compare_row(result: dict, methods: Sequence[str]) -> dict:
    """Exact peak, failed runs, and per method the element saving and speed-up against uniform
    meshes at :data:`SAVINGS_LEVEL` max error (None when not bracketed; flagged when a lower
    bound because no uniform run reached it)."""
    peak = result["reference"]["peak"]
    row: dict[str, Any] = {
        "peak_temperature_K": float(peak["rise"]) + float(result["parameters"]["ambient"]),
        "peak_x_m": float(peak["x"]), "peak_y_m": float(peak["y"]), "peak_block": peak.get("block"),
        "total_s": float(result["wall_s"]), "runs": len(result["rows"]),
        "failed_runs": sum("error" in r for r in result["rows"]),
    }
    level = result["summary"].get(str(100 * SAVINGS_LEVEL), {})
    for method in methods:
        s = level.get(method) or {}
        row[f"{method}_element_saving"] = s.get("element_saving")
        row[f"{method}_speedup"] = s.get("speed_up")
        row[f"{method}_lower_bound"] = bool(s.get("lower_bounds", False))
    return row


def _thread_limit(threads: int | None):
    """Native thread pools (BLAS, OpenMP) held to ``threads`` while a case runs (None: left
    alone). Rescans the loaded libraries (a few ms per case) so that those a previous case
    loaded are covered; worker processes also get :data:`THREAD_VARIABLES` = 1 from their
    start (loky's ``env``, dask's nanny), which covers the libraries loaded later."""
    if threads is None:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(threads))


def _base_row(case: Case, task: str) -> dict:
    return {"name": case.name, "status": "failed", "error": "", "task": task, "flp": case.flp,
            "ptrace": case.ptrace or ""}


def _worker() -> str:
    """``host:pid`` of the process running a case."""
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def _stage(cases_dir: Path, name: str) -> Path:
    """A new hidden temporary folder for case ``name`` (removed by the next batch if left)."""
    cases_dir.mkdir(parents=True, exist_ok=True)
    stage = cases_dir / f".{name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    stage.mkdir()
    return stage


def _publish(stage: Path, final: Path) -> None:
    """Rename a complete case folder into place, replacing an older one (rename it aside first:
    a directory cannot be renamed over a non-empty one)."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        os.rename(final, old)
    os.rename(stage, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_case(stage: Path, case: Case, task: str, options: dict, inputs: dict, row: dict) -> None:
    from thermal.version import __version__
    from thermal.app.output import write_json

    write_json(stage / "case.json", {
        "thermesh_version": __version__,
        "case": {"name": case.name, "flp": case.flp, "ptrace": case.ptrace, "config": case.config,
                 "origin": case.origin},
        "options": _case_options(case, task, options),
        "inputs": inputs,
        "row": row,
    })


def run_case(case: Case, task: str, options: dict, out: str | Path, threads: int | None = None) -> dict:
    """Run one case into ``OUT/cases/NAME/``; never raises.

    Top level and picklable, so joblib/loky and dask workers can run it.

    Parameters
    ----------
    case : Case
    task : {"solve", "compare", "predict"}
    options : dict
        From :func:`build_options`; a case's manifest columns override ``mesh``, ``tol``,
        ``resolution`` and the model parameters.
    out : str or Path
        The batch's output directory.
    threads : int, optional
        Hold native thread pools (BLAS, OpenMP) to this many threads while the case runs.

    Returns
    -------
    dict
        The summary row: name, flp, ptrace, task, status (``ok`` or ``failed``), error (one
        line, empty if ok), the task's numbers and ``case_s`` (wall time of the case). The
        same row is in the case's ``case.json``. Any exception (bad files, solver failure, a
        full disk...) becomes a failed row.
    """
    start = time.perf_counter()
    row = _base_row(case, task)
    cases_dir = Path(out) / "cases"
    inputs: dict = {}
    try:
        with _thread_limit(threads):
            inputs = fingerprint(case, options)
            stage = _stage(cases_dir, case.name)
            try:
                floorplan, model = load_case(case, options)
                if task == "solve":
                    opts = {**options, **{k: case.params[k] for k in ("mesh", "tol", "resolution")
                                          if k in case.params}}
                    sol = solve_to(floorplan, model, stage, mesh=opts["mesh"],
                                   resolution=opts["resolution"], tol=opts["tol"],
                                   budget=opts.get("budget"), conform=opts.get("conform", False),
                                   verify=opts.get("verify", False), png=opts.get("png", True),
                                   start=start)
                    row.update(_solution_row(sol))
                elif task == "predict":
                    doc = predict_to(floorplan, model, stage, model_path=options.get("hotspot_model"),
                                     png=options.get("png", True),
                                     predictor=options.get("predictor", "model"))
                    top = doc["hotspots"][0] if doc["hotspots"] else {}
                    row.update(method="predict", hotspots=len(doc["hotspots"]),
                               hottest_predicted_K=top.get("temperature"),
                               peak_temperature_K=top.get("temperature"), peak_x_m=top.get("x"),
                               peak_y_m=top.get("y"), peak_block=top.get("block"),
                               predict_s=doc["timing"]["predict_s"])
                elif task == "compare":
                    result = compare_to(floorplan, model, stage, methods=options["methods"],
                                        tolerances=options["tolerances"],
                                        resolutions=options["resolutions"],
                                        conform=options.get("conform", False))
                    row.update(method="compare", **_compare_row(result, options["methods"]))
                else:
                    raise ValueError(f"unknown task {task!r}")
                row.update(status="ok", case_s=time.perf_counter() - start, worker=_worker())
                _write_case(stage, case, task, options, inputs, row)
                _publish(stage, cases_dir / case.name)
            except BaseException:
                shutil.rmtree(stage, ignore_errors=True)
                raise
    except Exception as exc:
        try:
            error = one_line(exc)
        except Exception:  # an exception whose message itself fails
            error = exc.__class__.__name__
        row.update(status="failed", error=error, case_s=time.perf_counter() - start,
                   worker=_worker())
        _record_failure(case, task, options, out, inputs, row)
    return row


def _record_failure(case: Case, task: str, options: dict, out: str | Path, inputs: dict,
                    row: dict) -> None:
    """Replace the case's folder by one holding only its ``case.json`` (status failed); a
    problem doing so (e.g. a full disk) is not an error of its own."""
    cases_dir = Path(out) / "cases"
    stage = None
    try:
        stage = _stage(cases_dir, case.name)
        _write_case(stage, case, task, options, inputs, row)
        _publish(stage, cases_dir / case.name)
    except Exception:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)


def failed_row(case: Case, task: str, error: str) -> dict:
    """The row of a case that could not even run (e.g. its worker process died)."""
    return {**_base_row(case, task), "error": " ".join(error.split())[:ERROR_LENGTH]}


def finished_row(case: Case, task: str, options: dict, out: str | Path) -> dict | None:
    """The row recorded by an earlier run if the case finished ok with the same options and
    input files, else ``None``."""
    path = Path(out) / "cases" / case.name / "case.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("row"), dict):
        return None
    if record["row"].get("status") != "ok" or record.get("options") != _case_options(case, task, options):
        return None
    if record.get("inputs") != fingerprint(case, options):
        return None
    return record["row"]


# ---------------------------------------------------------------------------------- running
def _remove_stale(cases_dir: Path) -> int:
    """Remove temporary folders a killed run left (every hidden entry of ``OUT/cases``)."""
    removed = 0
    if cases_dir.is_dir():
        for entry in cases_dir.iterdir():
            if entry.name.startswith("."):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed += 1
    return removed


def _run_here(cases, task, options, out) -> Iterator[dict]:
    for case in cases:
        yield run_case(case, task, options, out)


def _thread_env() -> dict:
    return {name: "1" for name in THREAD_VARIABLES}


def _one_thread_env() -> None:
    """Initializer of forked workers: libraries they load later start with one thread."""
    os.environ.update(_thread_env())


def can_fork() -> bool:
    """Whether local workers may be forked from this process: on Linux, with no other thread
    running and no OpenMP runtime loaded (neither survives a fork safely). Forked workers
    start in milliseconds with everything already imported; otherwise they are fresh
    interpreters (loky), which here took about 1.5 s to start and import the solver."""
    import multiprocessing
    import threading

    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return False
    if threading.active_count() != 1:
        return False
    from threadpoolctl import threadpool_info

    return not any(info.get("user_api") == "openmp" for info in threadpool_info())


def _pool(workers: int, fork: bool):
    """A process pool of ``workers`` processes whose native thread pools use one thread."""
    if fork:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_one_thread_env)
    # A pool of our own, not loky's process-wide reusable one: joblib's Parallel later takes
    # that singleton for its own and fails on it (no _temp_folder_manager; joblib issue 1794's
    # error), as a batch run followed by `generate` in one process did.
    from joblib.externals.loky.process_executor import ProcessPoolExecutor as LokyExecutor

    return LokyExecutor(max_workers=workers, env=_thread_env())


def _stop(executor) -> None:
    """Stop a pool at once: queued cases cancelled, running ones killed (they leave only
    hidden temporary folders, removed by the next run)."""
    from joblib.externals.loky.process_executor import ProcessPoolExecutor as LokyExecutor

    if isinstance(executor, LokyExecutor):
        executor.shutdown(wait=False, kill_workers=True)
        return
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()


def _run_local(cases, task, options, out, workers: int, fork: bool | None = None) -> Iterator[dict]:
    """Cases in ``workers`` local processes (one native thread each); rows as they finish.

    The processes are started here, before the caller's progress bar (whose thread must not
    exist when forking); ``fork=None`` forks when :func:`can_fork` says it is safe. A worker
    process that dies (segfault, out of memory) breaks the pool and every case then running
    in it; those are retried one at a time in fresh processes, so only a case that kills its
    worker again is reported failed.
    """
    fork = can_fork() if fork is None else fork
    job = partial(run_case, task=task, options=options, out=str(out), threads=1)
    executor = _pool(min(workers, len(cases)), fork)
    futures = {executor.submit(job, case): case for case in cases}  # forks now
    return _collect_local(executor, futures, job, list(cases), task, fork)


def _collect_local(executor, futures: dict, job, cases: list, task: str, fork: bool) -> Iterator[dict]:
    from concurrent.futures import as_completed

    finished = False
    try:
        broken = []
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception:  # the pool broke: retried below
                broken.append(futures[future])
        if fork:
            executor.shutdown(wait=True)
        for case in sorted(broken, key=cases.index):
            executor = _pool(1, fork=False)
            try:
                yield executor.submit(job, case).result()
            except Exception as exc:
                yield failed_row(case, task, f"worker process died: {one_line(exc)}")
        finished = True
    finally:
        if not finished:  # interrupted (Ctrl-C) or the consumer stopped: stop the workers too
            for future in futures:
                future.cancel()
            _stop(executor)


def _dask_client(scheduler):
    """``(client, own)`` for an address or an existing ``distributed.Client``."""
    try:
        import distributed
    except ImportError:
        raise InputError("--scheduler", "dask.distributed is not installed: "
                         "pip install 'thermesh[distributed]'") from None
    if isinstance(scheduler, distributed.Client):
        return scheduler, False
    try:
        return distributed.Client(scheduler, timeout="15s"), True
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(scheduler, f"cannot connect to the dask scheduler: {one_line(exc)}") from None


def _run_dask(cases, task, options, out, client) -> Iterator[dict]:
    """Cases as dask tasks (one native thread each), as they finish; a task whose worker died
    (dask's ``KilledWorker``) is a failed case."""
    from distributed import as_completed

    job = partial(run_case, task=task, options=options, out=str(out), threads=1)
    token = secrets.token_hex(4)
    futures = client.map(job, cases, key=[f"thermesh-{task}-{c.name}-{token}" for c in cases])
    by_key = {f.key: c for f, c in zip(futures, cases)}
    finished = False
    try:
        for future in as_completed(futures):
            try:
                row = future.result()
            except Exception as exc:
                row = failed_row(by_key[future.key], task, f"dask task failed: {one_line(exc)}")
            future.release()
            yield row
        finished = True
    finally:
        if not finished:  # interrupted: do not leave the cluster busy with this batch
            client.cancel([f for f in futures if not f.done()])


def run_batch(cases: Sequence[Case], out: str | Path, task: str, options: dict, workers: int = 1,
              scheduler=None, progress: bool = True) -> list[dict]:
    """Run every unfinished case, then write the summary and the report.

    Parameters
    ----------
    cases : sequence of Case
        From :func:`read_cases`.
    out : str or Path
        Output directory (``cases/NAME/`` per case, ``summary.csv``, ``summary.json``,
        ``report.html``, ``report.md``, ``figures/``).
    task : {"solve", "compare", "predict"}
    options : dict
        From :func:`build_options`.
    workers : int
        Local processes; 1 runs the cases in this process.
    scheduler : str or distributed.Client, optional
        Run on a dask cluster instead (``workers`` is then ignored).
    progress : bool
        A tqdm progress bar on stderr (when stderr is a terminal).

    Returns
    -------
    list of dict
        One row per case, in input order. Cases finished by an earlier run with the same
        options and inputs are not run again: their row is the recorded one with status
        ``skipped``.

    Raises
    ------
    InputError
        dask is missing or the scheduler cannot be reached (before anything is written).
    """
    from tqdm import tqdm

    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}: choose from {', '.join(TASKS)}")
    if int(workers) != workers or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    names = [c.name for c in cases]
    if len(set(n.lower() for n in names)) != len(names):
        raise ValueError("case names must be unique")
    client, own = _dask_client(scheduler) if scheduler is not None else (None, False)
    try:
        out = Path(out).resolve()
        cases_dir = out / "cases"
        cases_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale(cases_dir)
        start = time.perf_counter()
        rows: dict[str, dict] = {}
        todo = []
        for case in cases:
            done = finished_row(case, task, options, out)
            if done is None:
                todo.append(case)
            else:
                rows[case.name] = {**done, "status": "skipped"}
        failed = 0
        # Local worker processes start before the progress bar (and its thread) exists.
        if not todo:
            runner: Iterator[dict] = iter(())
        elif client is not None:
            runner = _run_dask(todo, task, options, out, client)
        elif workers == 1 or len(todo) == 1:
            runner = _run_here(todo, task, options, out)
        else:
            runner = _run_local(todo, task, options, out, int(workers))
        with tqdm(total=len(cases), initial=len(cases) - len(todo), desc=f"batch {task}",
                  unit="case", file=sys.stderr, disable=None if progress else True,
                  smoothing=0.1) as bar:
            for row in runner:
                rows[row["name"]] = row
                failed += row["status"] == "failed"
                bar.update()
                if failed:
                    bar.set_postfix(failed=failed, refresh=False)
        ordered = [rows[c.name] for c in cases]
        where = ({"scheduler": str(getattr(client.scheduler, "address", scheduler))}
                 if client is not None else {"workers": int(workers)})
        write_summary(out, ordered, task, options,
                      {"seconds": time.perf_counter() - start, **where})
        return ordered
    finally:
        if own:
            client.close()
