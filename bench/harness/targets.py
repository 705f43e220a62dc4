"""The things measured: the origin itself (the ceiling), nginx, HAProxy,
Ravelin, and Ravelin with a 3-plugin chain. A target that cannot run is
kept with a `skipped` reason, so the report says why it has no numbers."""

import ssl
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import configs, procs
from .setup import which

PROTOS = ("h1", "h1-tls", "h2-tls")
PROTO_LABEL = {"h1": "HTTP/1.1", "h1-tls": "HTTP/1.1 + TLS 1.3", "h2-tls": "HTTP/2 + TLS 1.3"}


@dataclass
class Target:
    name: str
    label: str
    plain: int
    tls: int | None = None
    proc: procs.Proc | None = None
    skipped: str | None = None
    # Appended to every benchmark URL (`?max_age=600` makes the origin's
    # answer cacheable for the cache plugin's row).
    query: str = ""

    def port(self, proto: str) -> int:
        return self.plain if proto == "h1" else self.tls

    def supports(self, proto: str) -> bool:
        return proto == "h1" or self.tls is not None


def smoke(port: int, tls: bool, size: int = 2) -> str | None:
    """One GET /bytes/N through the target: None if it answers right."""
    scheme = "https" if tls else "http"
    ctx = ssl._create_unverified_context() if tls else None
    req = urllib.request.Request(f"{scheme}://127.0.0.1:{port}/bytes/{size}",
                                 headers={"Authorization": f"Bearer {configs.BEARER_TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
            body = r.read()
            if r.status != 200 or len(body) != size:
                return f"GET /bytes/{size} gave status {r.status} with {len(body)} bytes"
    except Exception as e:  # any failure is a reason to skip, reported as text
        return f"GET /bytes/{size} over {scheme} failed: {e}"
    return None


def start_origin(kind: str, repo: Path, tmp: Path, cpus: str) -> procs.Proc:
    if kind == "nginx":
        conf = configs.nginx_origin(tmp)
        argv = [which("nginx"), "-c", str(conf), "-g", "daemon off;"]
    else:
        argv = [str(repo / "target/release/ravelin-demo-origin"), "--name", "origin",
                "--listen", f"127.0.0.1:{configs.ORIGIN_PORT}"]
    proc = procs.start(f"origin ({kind})", argv, cpus, tmp / "origin.log")
    why = procs.wait_for_port(proc, configs.ORIGIN_PORT) or smoke(configs.ORIGIN_PORT, False)
    if why:
        raise RuntimeError(f"the origin did not start: {why}")
    return proc


def _start(target: Target, argv: list[str], cpus: str, tmp: Path) -> Target:
    """Start a proxy, wait for both listeners, check one request on each."""
    target.proc = procs.start(target.name, argv, cpus, tmp / f"{target.name}.log")
    for port, tls in ((target.plain, False), (target.tls, True)):
        why = procs.wait_for_port(target.proc, port) or smoke(port, tls)
        if why:
            log = (tmp / f"{target.name}.log").read_text(errors="replace").strip()[-300:]
            procs.stop(target.proc)
            target.proc, target.skipped = None, why + (f" — log: {log}" if log else "")
            return target
    return target


def nginx(tmp: Path, cert: Path, key: Path, cpus: str, version: str) -> Target:
    t = Target("nginx", version.replace("nginx version: ", ""), 18081, 18441)
    conf = configs.nginx_proxy(tmp, t.plain, t.tls, cert, key)
    return _start(t, [which("nginx"), "-c", str(conf), "-g", "daemon off;"], cpus, tmp)


def haproxy(tmp: Path, cert: Path, key: Path, cpus: str, version: str) -> Target:
    t = Target("haproxy", " ".join(version.split()[:3]), 18082, 18442)
    conf = configs.haproxy(tmp, t.plain, t.tls, cert, key)
    return _start(t, [which("haproxy"), "-db", "-f", str(conf)], cpus, tmp)


def ravelin(name: str, label: str, binary: Path, tmp: Path, cert: Path, key: Path,
            cpus: str, ports: tuple[int, int, int], plugins: dict[str, tuple[Path, str]] | None,
            build_error: str | None) -> Target:
    plain, tls, admin = ports
    t = Target(name, label, plain, tls)
    if build_error:
        t.skipped = build_error
        return t
    conf = configs.ravelin(tmp, name, plain, tls, admin, cert, key, plugins)
    check = subprocess.run([str(binary), "check", "-c", str(conf)],
                           capture_output=True, text=True, timeout=120)
    if check.returncode != 0:
        t.skipped = "`ravelin check` refused the config: " + (check.stdout + check.stderr).strip()[-400:]
        return t
    return _start(t, [str(binary), "run", "-c", str(conf)], cpus, tmp)
