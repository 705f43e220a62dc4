"""Starting, pinning and stopping the processes the harness owns. Every
process is started in its own session (process group) and registered, so
`stop_all` — called on exit, on Ctrl-C and on SIGTERM — ends each one."""

import os
import resource
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

NOFILE = 65536  # room for the 10k idle connections plus upstream ones...


def nofile_limit() -> int:
    """...or as many as the hard limit allows (raising it needs privileges
    a container may not have)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    cpus: str

    @property
    def pid(self) -> int:
        return self.popen.pid


_running: list[Proc] = []


def _child_setup() -> None:
    """In the child, before exec: own process group, raised fd limit."""
    os.setsid()
    raise_own_nofile()


def raise_own_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile_limit(), hard))


def start(name: str, argv: list[str], cpus: str, log: Path, cwd: Path | None = None) -> Proc:
    """Start argv pinned to `cpus` (taskset exec's it: the pid is the program's)."""
    out = open(log, "wb")
    popen = subprocess.Popen(
        ["taskset", "-c", cpus, *argv],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        cwd=cwd, preexec_fn=_child_setup,
    )
    out.close()
    proc = Proc(name, popen, cpus)
    _running.append(proc)
    return proc


def pin(proc: Proc, cpus: str) -> None:
    """Move every thread of a running process to `cpus`."""
    subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(proc.pid)],
                   check=True, stdout=subprocess.DEVNULL)
    proc.cpus = cpus


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(proc: Proc, port: int, timeout_s: float = 15.0) -> str | None:
    """None once 127.0.0.1:port accepts, else why not (exited, or timed out)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            return f"{proc.name} exited with status {proc.popen.returncode}"
        if port_open(port):
            return None
        time.sleep(0.1)
    return f"{proc.name} did not listen on 127.0.0.1:{port} within {timeout_s:.0f} s"


def stop(proc: Proc, grace_s: float = 5.0) -> None:
    """SIGTERM the process group, SIGKILL it after grace_s."""
    if proc in _running:
        _running.remove(proc)
    if proc.popen.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.popen.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.popen.wait(timeout=grace_s)
    except ProcessLookupError:
        pass


def stop_all() -> None:
    for proc in list(reversed(_running)):
        stop(proc)


def install_signal_handlers() -> None:
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt so `finally` blocks run."""
    def interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
