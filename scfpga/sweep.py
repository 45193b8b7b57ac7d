"""Design-space sweeps: a grid of design points, evaluated in parallel, resumable, with a Pareto
front of accuracy against hardware cost.

A spec is a TOML or JSON file::

    evaluator = "sng"            # a name in scfpga.evaluators.EVALUATORS
    [grid]                       # every combination is one point
    length = [64, 256, 1024]
    width = [8, 12]
    source = ["sobol", "lfsr"]
    [options]                    # passed to the evaluator unchanged
    build = true
    device = "up5k"

Results go to ``OUT/results.jsonl``, one line per finished point (metrics, or the error that
point raised: a failing point never stops the sweep). Running the same spec into the same
``OUT`` again evaluates only the points that have no line yet, so an interrupted sweep resumes.
Points run on local processes by default, or on a Dask distributed cluster given its scheduler
address.

The spec is checked before any point runs (:func:`spec_from_dict`): only the keys above at the
top; grid keys and option keys the evaluator knows, with the right types
(:data:`scfpga.evaluators.SCHEMAS`); ``objectives`` a list of the evaluator's metric names; no
value twice in one grid list. ``OUT/sweep.json`` records the evaluator and options, and a
resume with others is refused. Local workers lead their own process groups and end with the
sweep (Ctrl-C, SIGTERM, even SIGKILL of the sweep), taking their tools with them.
"""
import itertools
import json
import os
import time
import tomllib
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .evaluators import EVALUATORS, SCHEMAS, check_point
from .model.params import ParameterError, read_text
from .sim.processes import end_pool, worker_init

MAXIMISE = {"accuracy", "fmax_mhz"}


@dataclass
class SweepSpec:
    evaluator: str
    grid: dict
    options: dict = field(default_factory=dict)
    objectives: tuple = ("accuracy", "logic_cells")


def load_spec(path):
    """Read and validate a sweep spec (``.toml`` or ``.json``)."""
    path = Path(path)
    if path.suffix not in (".toml", ".json"):
        raise ParameterError(f"SPEC must be a .toml or .json file, got {path.name}")
    text = read_text("SPEC file", path)
    try:
        raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, RecursionError) as e:        # TOMLDecodeError is a ValueError
        raise ParameterError(f"SPEC {path} is not valid {path.suffix[1:].upper()}: {e}") from None
    try:
        return spec_from_dict(raw)
    except ParameterError as e:
        raise ParameterError(f"SPEC {path.name}: {e}") from None


TOP_KEYS = ("evaluator", "grid", "options", "objectives")
SCALARS = (str, int, float, bool)


def spec_from_dict(raw):
    """A :class:`SweepSpec` from a parsed spec; every fault is a ParameterError naming the key."""
    if not isinstance(raw, dict):
        raise ParameterError(f"a sweep spec must be a table (JSON object) with keys "
                             f"{', '.join(TOP_KEYS)}, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise ParameterError(f"unknown key {unknown[0]!r} (allowed: {', '.join(TOP_KEYS)})")
    evaluator = raw.get("evaluator")
    if not isinstance(evaluator, str) or evaluator not in EVALUATORS:
        raise ParameterError(f"evaluator must be one of {', '.join(sorted(EVALUATORS))}, got {evaluator!r}")
    schema = SCHEMAS[evaluator]
    grid = raw.get("grid")
    if not isinstance(grid, dict) or not grid or \
            not all(isinstance(v, list) and v for v in grid.values()):
        raise ParameterError("grid must map each parameter to a non-empty list of values")
    for key, values in grid.items():
        if key not in schema.grid:
            raise ParameterError(f"unknown grid key {key!r} for evaluator {evaluator} "
                                 f"(allowed: {', '.join(schema.grid)})")
        seen = []
        for v in values:
            schema.grid[key](f"grid.{key}", v)
            if any(type(v) is type(w) and v == w for w in seen):
                raise ParameterError(f"grid.{key} lists {v!r} more than once")
            seen.append(v)
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise ParameterError(f"options must be a table, got {options!r}")
    for key, value in options.items():
        if key not in schema.options:
            raise ParameterError(f"unknown options key {key!r} for evaluator {evaluator} "
                                 f"(allowed: {', '.join(schema.options)})")
        schema.options[key](f"options.{key}", value)
    objectives = raw.get("objectives", list(schema.objectives))
    if not isinstance(objectives, list) or not objectives or \
            not all(isinstance(o, str) for o in objectives) or len(set(objectives)) != len(objectives):
        raise ParameterError(f"objectives must be a list of distinct metric names, got {objectives!r}")
    for o in objectives:
        if o not in schema.metrics:
            raise ParameterError(f"objectives: {o!r} is not a metric of evaluator {evaluator} "
                                 f"(one of {', '.join(schema.metrics)})")
    return SweepSpec(evaluator, grid, dict(options), tuple(objectives))


def points(spec):
    """Every combination of the grid, in a stable order."""
    names = sorted(spec.grid)
    return [dict(zip(names, values)) for values in itertools.product(*(spec.grid[n] for n in names))]


def point_key(point):
    return json.dumps(point, sort_keys=True)


def evaluate_point(evaluator, point, options):
    """Run one point; never raises: failures come back as ``{"error": ...}``."""
    t0 = time.time()
    try:
        check_point(evaluator, point)
        metrics = EVALUATORS[evaluator](point, options)
        return {"point": point, "metrics": metrics, "seconds": round(time.time() - t0, 2)}
    except Exception as e:                       # a failed point is data, not a crash
        return {"point": point, "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(limit=5), "seconds": round(time.time() - t0, 2)}


def load_results(out_dir):
    f = Path(out_dir) / "results.jsonl"
    if not f.exists():
        return []
    results = []
    for line in f.read_text().splitlines():
        if line.strip():
            try:
                results.append(json.loads(line))
            except ValueError:
                pass                             # a line cut off by an interruption: redo it
    return results


def run_sweep(spec, out_dir, scheduler=None, workers=None, retry_failed=False, progress=print):
    """Evaluate every point of ``spec`` not yet in ``out_dir``; return all results.

    Parameters
    ----------
    scheduler : str, distributed.Client or None
        A Dask scheduler address (``tcp://host:8786``) or client; ``None`` runs on local
        processes.
    workers : int or None
        Local process count (default: CPU count).
    retry_failed : bool
        Evaluate again the points whose saved result is an error.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ParameterError(f"-o/--output: cannot make {out_dir} ({e.strerror or e})") from None
    _check_resume(spec, out_dir)
    options = dict(spec.options)
    options.setdefault("build_cache", str(out_dir / "builds"))
    done = {point_key(r["point"]): r for r in load_results(out_dir)
            if not (retry_failed and "error" in r)}
    todo = [p for p in points(spec) if point_key(p) not in done]
    progress(f"sweep: {len(done)} points already done, {len(todo)} to evaluate")
    with open(out_dir / "results.jsonl", "a") as sink:
        for i, result in enumerate(_execute(spec.evaluator, todo, options, scheduler, workers), 1):
            sink.write(json.dumps(result) + "\n")
            sink.flush()
            done[point_key(result["point"])] = result
            status = "error: " + result["error"] if "error" in result else \
                ", ".join(f"{k}={_fmt(v)}" for k, v in result["metrics"].items() if k in spec.objectives)
            progress(f"  [{i}/{len(todo)}] {point_key(result['point'])} {status}")
    results = [done[point_key(p)] for p in points(spec) if point_key(p) in done]
    write_outputs(spec, results, out_dir)
    return results


def _check_resume(spec, out_dir):
    """Record the evaluator and options in ``OUT/sweep.json``; refuse to resume into a folder
    whose results came from another evaluator or other options."""
    meta_file = out_dir / "sweep.json"
    meta = {"evaluator": spec.evaluator, "options": spec.options}
    if meta_file.exists():
        try:
            old = json.loads(meta_file.read_text())
        except (OSError, ValueError):
            old = None
        if old != json.loads(json.dumps(meta)):
            raise ParameterError(f"-o/--output: {out_dir} holds results of another sweep "
                                 f"({meta_file} differs in evaluator or options); choose another folder")
    elif (out_dir / "results.jsonl").exists() and any(
            "point" in r and set(r["point"]) - set(SCHEMAS[spec.evaluator].grid)
            for r in load_results(out_dir)):
        raise ParameterError(f"-o/--output: {out_dir} holds results of another evaluator; "
                             f"choose another folder")
    meta_file.write_text(json.dumps(meta, indent=2) + "\n")


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _execute(evaluator, todo, options, scheduler, workers):
    if not todo:
        return
    if scheduler is not None:
        from distributed import Client, as_completed as dask_completed
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        try:
            futures = [client.submit(evaluate_point, evaluator, p, options, pure=False) for p in todo]
            for future in dask_completed(futures):
                yield future.result()
        finally:
            if client is not scheduler:
                client.close()
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        for p in todo:
            yield evaluate_point(evaluator, p, options)
        return
    pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)), initializer=worker_init,
                               initargs=(os.getpid(),))
    try:
        futures = [pool.submit(evaluate_point, evaluator, p, options) for p in todo]
        for future in as_completed(futures):
            yield future.result()
    except BaseException:          # Ctrl-C, SIGTERM, a closed generator: no worker lives on
        end_pool(pool)
        raise
    pool.shutdown(wait=True)


def pareto_front(results, objectives=("accuracy", "logic_cells")):
    """The successful results no other result beats on every objective."""
    ok = [r for r in results if "metrics" in r and all(r["metrics"].get(o) is not None for o in objectives)]

    def score(r):                                 # larger is better on every axis
        return [r["metrics"][o] if o in MAXIMISE else -r["metrics"][o] for o in objectives]

    front = []
    for r in ok:
        s = score(r)
        dominated = any(all(a >= b for a, b in zip(score(q), s)) and score(q) != s for q in ok)
        if not dominated:
            front.append(r)
    return front


def write_outputs(spec, results, out_dir):
    """``summary.json`` (all points, the front) and ``pareto.png``."""
    front = pareto_front(results, spec.objectives)
    summary = {"evaluator": spec.evaluator, "objectives": list(spec.objectives),
               "points": len(results), "failed": sum("error" in r for r in results),
               "pareto": [r["point"] | {o: r["metrics"][o] for o in spec.objectives} for r in front]}
    (Path(out_dir) / "summary.json").write_text(json.dumps(summary, indent=2))
    if len(spec.objectives) >= 2 and front:
        plot_front(results, front, spec.objectives, Path(out_dir) / "pareto.png")
    return summary


def plot_front(results, front, objectives, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    x_name, y_name = objectives[1], objectives[0]
    ok = [r for r in results if "metrics" in r and r["metrics"].get(x_name) is not None]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter([r["metrics"][x_name] for r in ok], [r["metrics"][y_name] for r in ok],
               s=14, c="0.6", label="design points")
    f = sorted(front, key=lambda r: r["metrics"][x_name])
    ax.plot([r["metrics"][x_name] for r in f], [r["metrics"][y_name] for r in f], "o-", c="C3",
            label="Pareto front")
    ax.set_xlabel(x_name.replace("_", " "))
    ax.set_ylabel(y_name.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
