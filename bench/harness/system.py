"""What the harness reads from the machine: CPU time and memory of process
trees (/proc), machine-wide busy time, and whether the machine is quiet."""

import os
import time
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Direct children of pid, read from /proc/PID/task/*/children."""
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def tree(pid: int) -> list[int]:
    """pid and all its descendants (bounded: at most 256 processes)."""
    seen, todo = [], [pid]
    while todo and len(seen) < 256:
        p = todo.pop()
        seen.append(p)
        todo += children(p)
    return seen


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads, live and exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu_seconds(pid: int) -> float:
    return sum(cpu_seconds(p) for p in tree(pid))


def status_kib(pid: int, key: str) -> int:
    """A `kB` line of /proc/PID/status (VmRSS, VmHWM), 0 if unreadable."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_kib(pid: int, key: str) -> int:
    """Sum of a /proc status figure over a process tree (nginx: master + worker)."""
    return sum(status_kib(p, key) for p in tree(pid))


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (from /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = v[:8]
    return (user + nice + system + irq + softirq + steal) / TICKS


def loadavg() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


@dataclass
class Quiet:
    quiet: bool
    busy_cores: float  # cores busy during the last probe second
    loadavg: float
    waited_s: float


def wait_quiet(max_wait_s: float, busy_limit: float = 0.15) -> Quiet:
    """Probe one second at a time until less than `busy_limit` of a core is
    busy, for at most max_wait_s; say whether it got quiet."""
    start = time.monotonic()
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        busy = machine_busy_seconds() - before
        waited = time.monotonic() - start
        if busy < busy_limit or waited >= max_wait_s:
            return Quiet(busy < busy_limit, round(busy, 3), loadavg(), round(waited, 1))


def describe_machine() -> dict:
    """CPU model, cores, memory and kernel, for the report."""
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    u = os.uname()
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": f"{u.sysname} {u.release}",
    }
