"""The measuring loop: rounds of cells, each cell run against every target
in turn (A B C A B C …), with the proxy on one core and the load generator
and origin on the other. Also the open-loop latency runs and the memory
figures (peak RSS, RSS with 10k idle keep-alive connections)."""

import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import load, procs, system
from .targets import Target

PROXY_CPU, LOAD_CPU = "0", "1"


@dataclass(frozen=True)
class Cell:
    proto: str
    size: int
    conc: int

    @property
    def key(self) -> str:
        return f"{self.proto}/{self.size}B/c{self.conc}"


@dataclass(frozen=True)
class Plan:
    cells: tuple[Cell, ...]
    rounds: int
    seconds: float
    warmup_s: float
    latency_rate: int
    latency_conc: int
    latency_s: float
    idle_conns: int
    quiet_wait_s: float
    oha: str = "oha"


def plan(quick: bool, rate: int) -> Plan:
    sizes = (2, 16384)
    h1_conc = (64,) if quick else (16, 256)
    cells = [Cell("h1", s, c) for s in sizes for c in h1_conc]
    cells += [Cell(p, s, 64 if quick else 128) for p in ("h1-tls", "h2-tls") for s in sizes]
    if quick:
        return Plan(tuple(cells), 1, 2, 1, rate, 32, 3, 10000, 5)
    return Plan(tuple(cells), 3, 4, 1, rate, 32, 8, 10000, 20)


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _place(target: Target, origin: procs.Proc) -> None:
    """The proxy alone on PROXY_CPU; for direct, the origin takes its place."""
    procs.pin(origin, PROXY_CPU if target.name == "direct" else LOAD_CPU)


def measure_cell(target: Target, origin: procs.Proc, cell: Cell, p: Plan) -> dict:
    """Warm up, then one measured closed-loop run with CPU accounting."""
    _place(target, origin)
    port = target.port(cell.proto)
    load.throughput(cell.proto, port, cell.size, cell.conc, p.warmup_s, LOAD_CPU, target.query)
    busy0 = system.machine_busy_seconds()
    proxy0 = system.tree_cpu_seconds(target.proc.pid)
    origin0 = system.tree_cpu_seconds(origin.pid)
    result = load.throughput(cell.proto, port, cell.size, cell.conc, p.seconds, LOAD_CPU, target.query)
    proxy_s = system.tree_cpu_seconds(target.proc.pid) - proxy0
    origin_s = 0.0 if target.name == "direct" else system.tree_cpu_seconds(origin.pid) - origin0
    busy = system.machine_busy_seconds() - busy0
    ours = proxy_s + origin_s + result.loadgen_cpu_s
    secs = result.seconds or p.seconds
    return {
        "target": target.name, "cell": cell.key, "proto": cell.proto, "size": cell.size,
        "conc": cell.conc, "requests": result.requests, "seconds": round(secs, 3),
        "rps": round(result.rps, 1), "errors": result.errors,
        "proxy_cpu_s": round(proxy_s, 3),
        "cpu_us_per_req": round(proxy_s / result.requests * 1e6, 2) if result.requests else None,
        "proxy_core_util": round(proxy_s / secs, 3),
        "load_core_util": round((result.loadgen_cpu_s + origin_s) / secs, 3),
        "foreign_cores": round(max(0.0, busy - ours) / secs, 3),
        "notes": result.notes,
    }


def run_rounds(targets: list[Target], origin: procs.Proc, p: Plan, quiet_log: list) -> list[dict]:
    samples = []
    for rnd in range(1, p.rounds + 1):
        q = system.wait_quiet(p.quiet_wait_s)
        quiet_log.append({"before": f"round {rnd}", **asdict(q)})
        if not q.quiet:
            _log(f"machine not quiet before round {rnd}: {q.busy_cores} cores busy, load {q.loadavg}")
        for cell in p.cells:
            for target in targets:
                if not target.supports(cell.proto):
                    continue
                try:
                    s = measure_cell(target, origin, cell, p)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    s = {"target": target.name, "cell": cell.key, "error": str(e)}
                    _log(f"round {rnd} {cell.key} {target.name}: FAILED {e}")
                else:
                    _log(f"round {rnd} {cell.key:22} {target.name:16} {s['rps']:>10.0f} req/s "
                         f"{s['cpu_us_per_req'] or 0:>7.1f} µs/req  foreign {s['foreign_cores']:.2f}")
                s["round"] = rnd
                samples.append(s)
        for target in targets:
            if target.name != "direct" and p.oha:
                samples.append(latency_sample(target, origin, p, rnd))
    return samples


def latency_sample(target: Target, origin: procs.Proc, p: Plan, rnd: int) -> dict:
    """p50/p99 at a fixed arrival rate (open loop, HTTP/1.1, 2-byte answers)."""
    _place(target, origin)
    try:
        lat = load.open_loop(p.oha, target.plain, 2, p.latency_rate, p.latency_conc,
                             p.latency_s, LOAD_CPU)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
        _log(f"round {rnd} latency {target.name}: FAILED {e}")
        return {"target": target.name, "cell": "latency", "round": rnd, "error": str(e)}
    _log(f"round {rnd} latency @{p.latency_rate}/s {target.name:16} p50 {lat.p50_ms} ms  p99 {lat.p99_ms} ms")
    return {"target": target.name, "cell": "latency", "round": rnd, **asdict(lat)}


def memory(targets: list[Target], p: Plan, bench_dir: Path) -> dict:
    """Peak RSS so far (VmHWM), then RSS while holding idle connections."""
    out = {}
    for target in targets:
        if target.name == "direct":
            continue
        pid = target.proc.pid
        entry = {"peak_rss_kib": system.tree_kib(pid, "VmHWM"),
                 "rss_before_idle_kib": system.tree_kib(pid, "VmRSS")}
        entry.update(idle_rss(target, p.idle_conns, bench_dir))
        out[target.name] = entry
        _log(f"memory {target.name:16} peak {entry['peak_rss_kib']} KiB, "
             f"with {entry.get('idle_conns_held')} idle conns {entry.get('idle_rss_kib')} KiB")
    return out


def settled_rss(pid: int) -> int:
    """RSS after the connections have been idle for 6 s: a proxy may give
    memory back a moment after its connections go idle (Ravelin parks them
    after 0.5 s and its allocator returns the freed pages 1 s later);
    nginx's and HAProxy's are the same at once."""
    time.sleep(6.0)
    return system.tree_kib(pid, "VmRSS")


def idle_rss(target: Target, count: int, bench_dir: Path) -> dict:
    """Hold `count` idle keep-alive connections open and read the proxy's RSS."""
    holder = subprocess.Popen(
        ["taskset", "-c", LOAD_CPU, sys.executable, "-m", "harness.idle",
         str(target.plain), str(count), "120"],
        cwd=bench_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = _readline_within(holder, 90)
        held = int(line.split()[1]) if line.startswith("ready") else 0
        rss = settled_rss(target.proc.pid)
    finally:
        holder.stdin.close()
        try:
            holder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
    time.sleep(1.0)  # let the proxy notice the closed connections
    return {"idle_conns_held": held, "idle_rss_kib": rss}


def _readline_within(proc: subprocess.Popen, timeout_s: float) -> str:
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    ready = sel.select(timeout_s)
    sel.close()
    return proc.stdout.readline().strip() if ready else ""
