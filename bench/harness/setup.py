"""Getting the tools and files a run needs: Debian packages, oha, the Rust
binaries, a self-signed certificate, and the peers' configuration files."""

import re
import shutil
import subprocess
from pathlib import Path

APT = {  # command -> Debian package
    "nginx": "nginx-light",
    "haproxy": "haproxy",
    "wrk": "wrk",
    "h2load": "nghttp2-client",
    "openssl": "openssl",
    "taskset": "util-linux",
}
OHA_VERSION = "1.16.0"  # builds with --locked on Rust 1.95; oha's MSRV is 1.88


def which(cmd: str) -> str | None:
    """Also look in /usr/sbin: nginx and haproxy live there."""
    return shutil.which(cmd) or shutil.which(cmd, path="/usr/sbin:/sbin")


def apt_install_missing(log) -> None:
    missing = sorted({pkg for cmd, pkg in APT.items() if not which(cmd)})
    if not missing:
        return
    log(f"installing with apt-get: {' '.join(missing)}")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    if subprocess.run(cmd, env=env, timeout=900).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, timeout=900, check=True)
        subprocess.run(cmd, env=env, timeout=900, check=True)
    # Debian starts the services it installs; the harness runs its own.
    for service in ("nginx", "haproxy"):
        subprocess.run(["service", service, "stop"], capture_output=True, timeout=60)


def ensure_oha(bench_dir: Path, log) -> tuple[Path | None, str | None]:
    """oha (open-loop, rate-limited, latency-corrected) in bench/.tools:
    its path, or None and why it could not be built."""
    root = bench_dir / ".tools"
    oha = root / "bin" / "oha"
    if oha.exists():
        return oha, None
    log(f"building oha {OHA_VERSION} into {root} (once; a few minutes)")
    try:
        r = subprocess.run(["cargo", "install", "--locked", f"oha@{OHA_VERSION}",
                            "--root", str(root)], timeout=1800, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return None, "building oha took over 30 minutes"
    if r.returncode != 0:
        return None, "`cargo install oha` failed: " + r.stderr.strip()[-300:]
    return oha, None


def cargo_build(repo: Path, package: str, timeout_s: int = 1200) -> str | None:
    """Build one workspace package in release mode: None, or why it failed."""
    try:
        r = subprocess.run(["cargo", "build", "--release", "-p", package], cwd=repo,
                           capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return f"`cargo build --release -p {package}` took over {timeout_s} s"
    if r.returncode == 0:
        return None
    errors = [l for l in r.stderr.splitlines() if l.startswith("error")]
    return f"`cargo build --release -p {package}` failed: " + (errors[0] if errors else r.stderr[-300:])


PLUGINS = ("waf", "auth", "rewrite")


def plugin_components(repo: Path, dest: Path, build: bool,
                      names: tuple[str, ...] = PLUGINS) -> tuple[dict, str | None]:
    """The first-party plugins as components, copied into dest: {name: path},
    or why not. `ravelin-test-guests` builds plugins/ and wraps each core
    module into a component; its build script lists the paths in guests.rs."""
    if build:
        err = cargo_build(repo, "ravelin-test-guests")
        if err:
            return {}, err
    found = sorted((repo / "target/release/build").glob("ravelin-test-guests-*/out/guests.rs"),
                   key=lambda p: p.stat().st_mtime)
    if not found:
        return {}, "no plugin components: `cargo build --release -p ravelin-test-guests` made no guests.rs"
    consts = dict(re.findall(r'pub const (\w+): &str = "([^"]+)";', found[-1].read_text()))
    out = {}
    for name in names:
        src = Path(consts.get(name.upper().replace("-", "_"), ""))
        if not src.is_file():
            return {}, f"no {name} component in {found[-1]}"
        out[name] = dest / f"{name}.wasm"
        shutil.copyfile(src, out[name])
    return out, None


def self_signed_cert(dir: Path) -> tuple[Path, Path]:
    cert, key = dir / "cert.pem", dir / "key.pem"
    if not cert.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True, timeout=60)
    return cert, key


def versions(oha: Path | None) -> dict:
    """Version strings of the peers and load generators, for the report."""
    def first_line(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unknown"
    out = {
        "nginx": first_line([which("nginx") or "nginx", "-v"]),
        "haproxy": first_line([which("haproxy") or "haproxy", "-v"]),
        "wrk": first_line(["wrk", "-v"]),
        "h2load": first_line(["h2load", "--version"]),
        "rustc": first_line(["rustc", "--version"]),
    }
    if oha:
        out["oha"] = first_line([str(oha), "--version"])
    return out
