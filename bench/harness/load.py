"""The load generators: wrk (HTTP/1.1, plain and TLS), h2load (HTTP/2 over
TLS) for closed-loop throughput, and oha for open-loop latency at a fixed
rate with coordinated-omission correction. Each runs pinned to the load
core, bounded by a timeout, and is parsed into plain numbers."""

import json
import re
import resource
import subprocess
from dataclasses import dataclass, field

from .configs import BEARER_TOKEN

H2_STREAMS = 8  # h2load streams per connection; connections = concurrency / 8
AUTH = f"Authorization: Bearer {BEARER_TOKEN}"  # sent to every target (the auth plugin wants it)


@dataclass
class Load:
    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    loadgen_cpu_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def url(proto: str, port: int, size: int, query: str = "") -> str:
    scheme = "http" if proto == "h1" else "https"
    return f"{scheme}://127.0.0.1:{port}/bytes/{size}{query}"


def _run(argv: list[str], timeout_s: float) -> tuple[str, float]:
    """Run a load generator; its output and the CPU seconds it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = r.stdout + r.stderr
    if r.returncode != 0:
        raise RuntimeError(f"{argv[3]} exited {r.returncode}: {out.strip()[-400:]}")
    return out, cpu


def throughput(proto: str, port: int, size: int, conc: int, seconds: float, cpus: str,
               query: str = "") -> Load:
    """Closed-loop: as many requests as `conc` connections (h1) or streams (h2) can do."""
    target = url(proto, port, size, query)
    if proto.startswith("h2"):
        conns = max(1, conc // H2_STREAMS)
        argv = ["h2load", "-t1", f"-c{conns}", f"-m{H2_STREAMS}", "-H", AUTH, "-D", str(max(1, round(seconds))), target]
        out, cpu = _run(["taskset", "-c", cpus, *argv], seconds + 30)
        return _parse_h2load(out, seconds, cpu)
    argv = ["wrk", "-t1", "-H", AUTH, f"-c{conc}", f"-d{max(1, round(seconds))}s", target]
    out, cpu = _run(["taskset", "-c", cpus, *argv], seconds + 30)
    return _parse_wrk(out, cpu)


def _parse_wrk(out: str, cpu: float) -> Load:
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if not m:
        raise RuntimeError(f"cannot parse wrk output: {out[-300:]}")
    secs = float(m.group(2)) / (1000 if m.group(3) == "ms" else 1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad = int(non2xx.group(1)) if non2xx else 0
    load = Load(int(m.group(1)) - bad, secs, loadgen_cpu_s=cpu)  # successful requests only
    load.errors = bad + (sum(map(int, sock.groups())) if sock else 0)
    if load.errors:
        load.notes.append("wrk: " + (non2xx.group(0) if non2xx else "") + (sock.group(0) if sock else ""))
    return load


def _parse_h2load(out: str, seconds: float, cpu: float) -> Load:
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored", out)
    status = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if not m:
        raise RuntimeError(f"cannot parse h2load output: {out[-300:]}")
    ok = int(status.group(1)) if status else int(m.group(4))
    load = Load(ok, seconds, loadgen_cpu_s=cpu)
    non2xx = sum(map(int, status.groups()[1:])) if status else 0
    load.errors = int(m.group(5)) + int(m.group(6)) + non2xx
    if load.errors:
        load.notes.append("h2load: " + m.group(0) + (f"; {status.group(0)}" if status else ""))
    return load


@dataclass
class Latency:
    rate: int
    requests: int
    p50_ms: float
    p99_ms: float
    p999_ms: float
    success_rate: float


def open_loop(oha: str, port: int, size: int, rate: int, conc: int, seconds: float,
              cpus: str) -> Latency:
    """oha at a fixed arrival rate; latencies measured from each request's
    scheduled start (--latency-correction), so stalls are not hidden."""
    argv = ["taskset", "-c", cpus, oha, "--no-tui", "--output-format", "json",
            "-z", f"{seconds:g}s", "-q", str(rate), "-c", str(conc),
            "--latency-correction", "-H", AUTH, url("h1", port, size)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if r.returncode != 0:
        raise RuntimeError(f"oha exited {r.returncode}: {r.stderr.strip()[-400:]}")
    data = json.loads(r.stdout)
    pct = data["latencyPercentiles"]
    summary = data["summary"]
    codes = data.get("statusCodeDistribution", {})
    return Latency(rate, sum(int(v) for v in codes.values()),
                   round(pct["p50"] * 1000, 3), round(pct["p99"] * 1000, 3),
                   round(pct.get("p99.9", pct["p99"]) * 1000, 3),
                   summary.get("successRate", 0.0))
