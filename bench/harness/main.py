"""The command line: prepare, measure, write the report, compare."""

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import compare, configs, plugin_costs, procs, report, runner, setup, summary, system, targets
from .configs import ORIGIN_PORT

BENCH = Path(__file__).resolve().parent.parent
REPO = BENCH.parent


def parse(argv: list[str]) -> argparse.Namespace:
    a = argparse.ArgumentParser(
        prog="bench/run",
        description="Ravelin against nginx and HAProxy (and the origin directly): throughput, "
                    "CPU per request, open-loop latency, memory; results in bench/results/. "
                    "See bench/README.md.")
    a.add_argument("--quick", action="store_true",
                   help="one short round, for developing (results go to bench/results/tmp/)")
    a.add_argument("--compare", metavar="BASELINE", type=Path,
                   help="print each figure's ratio to BASELINE and flag regressions (exit 3 if any)")
    a.add_argument("--save-baseline", metavar="FILE", type=Path, nargs="?",
                   const=BENCH / "baseline.json", help="store this run as the baseline")
    a.add_argument("--threshold", type=float, default=0.10, help="regression threshold (0.10 = 10%%)")
    a.add_argument("--basis", choices=("nginx", "absolute"), default="nginx",
                   help="compare figures normalised to nginx's (default) or raw")
    a.add_argument("--from-results", metavar="JSON", type=Path,
                   help="do not measure: rewrite the report and chart of an existing "
                        "results file (beside it) and compare it")
    a.add_argument("--origin", choices=("demo", "nginx"), default="demo",
                   help="the origin: ravelin-demo-origin (default; measured cheaper per request "
                        "here) or nginx serving static files")
    a.add_argument("--rate", type=int, default=2000, help="open-loop rate for latency, req/s")
    a.add_argument("--only", metavar="T,T", help="only these targets (direct,nginx,haproxy,ravelin,ravelin-plugins)")
    a.add_argument("--no-latency", action="store_true", help="skip the open-loop latency runs (no oha)")
    a.add_argument("--no-build", action="store_true", help="use the existing target/release binaries")
    a.add_argument("--plugin-costs", action="store_true",
                   help="instead: each first-party edge plugin alone on a route against Ravelin plain "
                        "and nginx (results in bench/results/plugin-costs.{json,md})")
    return a.parse_args(argv)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    args = parse(argv)
    out_dir = BENCH / "results" / ("tmp" if args.quick else "")
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.plugin_costs:
        return measure_plugin_costs(args, out_dir)
    if args.from_results:
        results = json.loads(args.from_results.read_text())
        if args.from_results.name == "results.json":  # a harness output folder
            write_outputs(results, args.from_results.parent, not args.compare)
    else:
        procs.install_signal_handlers()
        try:
            results = measure(args)
        except KeyboardInterrupt:
            log("interrupted: stopping everything the harness started")
            return 130
        finally:
            procs.stop_all()
        write_outputs(results, out_dir, not args.compare)
    return guard(args, results)


def guard(args, results: dict) -> int:
    if args.save_baseline:
        args.save_baseline.write_text(json.dumps(results, indent=1) + "\n")
        log(f"baseline saved to {args.save_baseline}")
    if args.compare:
        text, regressions = compare.compare(results, args.compare, args.threshold, args.basis)
        print(text)
        return 3 if regressions else 0
    return 0


def write_outputs(results: dict, out_dir: Path, show: bool) -> None:
    (out_dir / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (out_dir / "results.md").write_text(report.markdown(results))
    (out_dir / "chart.svg").write_text(report.svg(results))
    if show:
        print(report.markdown(results))
    log(f"wrote {out_dir}/results.json, results.md and chart.svg")


def measure(args) -> dict:
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    setup.apt_install_missing(log)
    oha, oha_error = (None, "--no-latency") if args.no_latency else setup.ensure_oha(BENCH, log)
    if oha_error:
        log(f"latency not measured: {oha_error}")
    procs.raise_own_nofile()
    tmp = BENCH / "results" / "tmp" / "run"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    ravelin_error = build(args)
    plugins, plugins_error = {}, "not selected (--only)"
    if _wanted(args, "ravelin-plugins"):
        plugins, plugins_error = setup.plugin_components(REPO, tmp, not args.no_build)
    if ravelin_error is None and plugins_error:
        plugins_error = "the plugin components are not available: " + plugins_error
    cert, key = setup.self_signed_cert(tmp)
    versions = setup.versions(oha)
    plan = dataclasses.replace(runner.plan(args.quick, args.rate), oha=str(oha) if oha else "")

    q = system.wait_quiet(plan.quiet_wait_s)
    quiet_log = [{"before": "start", **dataclasses.asdict(q)}]
    origin = targets.start_origin(args.origin, REPO, tmp, runner.LOAD_CPU)
    all_targets = start_targets(args, tmp, cert, key, versions, ravelin_error, origin,
                                (plugins, ravelin_error or plugins_error))
    for t in all_targets:
        log(f"target {t.name}: " + (f"not available: {t.skipped}" if t.skipped else f"pid {t.proc.pid}"))
    live = [t for t in all_targets if not t.skipped]
    samples = runner.run_rounds(live, origin, plan, quiet_log)
    mem = runner.memory(live, plan, BENCH)
    results = {
        "meta": {"started": started, "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 "mode": "quick" if args.quick else "full", "machine": system.describe_machine(),
                 "versions": versions, "origin": _origin_label(args.origin),
                 "commit": _commit(),
                 "proxy_cpu": runner.PROXY_CPU, "load_cpu": runner.LOAD_CPU},
        "plan": {k: v for k, v in dataclasses.asdict(plan).items() if k not in ("cells", "oha")}
                | {"cells": [c.key for c in plan.cells]},
        "quiet": quiet_log,
        "latency_skipped": oha_error,
        "targets": [{"name": t.name, "label": t.label, "skipped": t.skipped} for t in all_targets],
        "samples": samples,
    }
    results["summary"] = {"throughput": summary.throughput(samples),
                          "latency": summary.latency(samples),
                          "memory": summary.memory(mem)}
    return results


def measure_plugin_costs(args, out_dir: Path) -> int:
    procs.install_signal_handlers()
    try:
        setup.apt_install_missing(log)
        procs.raise_own_nofile()
        tmp = BENCH / "results" / "tmp" / "run"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        args.started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        args.commit = _commit()
        results = plugin_costs.measure(args, REPO, tmp, log, build(args), args.origin)
    except KeyboardInterrupt:
        log("interrupted: stopping everything the harness started")
        return 130
    finally:
        procs.stop_all()
    (out_dir / "plugin-costs.json").write_text(json.dumps(results, indent=1) + "\n")
    text = plugin_costs.markdown(results)
    (out_dir / "plugin-costs.md").write_text(text)
    print(text)
    log(f"wrote {out_dir}/plugin-costs.json and plugin-costs.md")
    return 0


def _commit() -> str:
    """The commit measured, with `+dirty` when the work tree had changes."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "host", "plugins", "sdk", "Cargo.lock"],
                           cwd=REPO, capture_output=True, text=True).stdout.strip()
    return head + ("+dirty" if dirty else "")


def _origin_label(kind: str) -> str:
    return "nginx serving static files" if kind == "nginx" else "ravelin-demo-origin"


def build(args) -> str | None:
    """Build the Rust binaries; the origin must build, Ravelin may not yet."""
    if args.no_build:
        if args.origin == "demo" and not (REPO / "target/release/ravelin-demo-origin").exists():
            raise RuntimeError("target/release/ravelin-demo-origin does not exist (--no-build)")
        ok = (REPO / "target/release/ravelin").exists()
        return None if ok else "target/release/ravelin does not exist (--no-build)"
    if args.origin == "demo":
        err = setup.cargo_build(REPO, "ravelin-demo-origin")
        if err:
            raise RuntimeError(err)
    if not (_wanted(args, "ravelin") or _wanted(args, "ravelin-plugins")):
        return "not selected (--only)"
    log("building ravelin (cargo build --release -p ravelin)")
    return setup.cargo_build(REPO, "ravelin")


def _wanted(args, target: str) -> bool:
    return not args.only or target in args.only.split(",")


def start_targets(args, tmp, cert, key, versions, ravelin_error, origin, plugins) -> list:
    binary = REPO / "target/release/ravelin"
    cpu = runner.PROXY_CPU
    makers = {
        "direct": lambda: targets.Target("direct", _origin_label(args.origin), ORIGIN_PORT, None, proc=origin),
        "nginx": lambda: targets.nginx(tmp, cert, key, cpu, versions["nginx"]),
        "haproxy": lambda: targets.haproxy(tmp, cert, key, cpu, versions["haproxy"]),
        "ravelin": lambda: targets.ravelin("ravelin", "Ravelin", binary, tmp, cert, key, cpu,
                                          (18083, 18443, 19903), None, ravelin_error),
        "ravelin-plugins": lambda: targets.ravelin(
            "ravelin-plugins", "Ravelin + waf, auth, rewrite", binary, tmp, cert, key, cpu,
            (18084, 18444, 19904),
            {n: (path, configs.PLUGIN_CONFIG[n]) for n, path in plugins[0].items()}, plugins[1]),
    }
    return [make() for name, make in makers.items() if _wanted(args, name)]
