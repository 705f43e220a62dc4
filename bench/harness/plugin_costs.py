"""`bench/run --plugin-costs`: what each first-party edge plugin costs on its
own. One Ravelin per plugin (the plugin alone on the route, configured the
way the plugin's README shows, doing its real work on every request) runs
beside Ravelin plain and nginx in the same alternating rounds; the figure
is the proxy's CPU per request, as a ratio to Ravelin plain's and nginx's
in the same run."""

from pathlib import Path

from . import configs, runner, setup, summary, system, targets
from .configs import BEARER_TOKEN, JWT_SECRET

# What each plugin does under load, in its own config. Every request is
# `GET /bytes/N` from 127.0.0.1 with `Authorization: Bearer <BEARER_TOKEN>`
# (an HS256 JWT), so each plugin takes its working path, not a refusal.
COST_CONFIG = {
    "request-id": ("generates a UUIDv7, sets it on request and response",
                   '{ }'),
    "ipfilter": ("checks the client address against allow and deny lists",
                 '{ allow = ["127.0.0.0/8", "10.0.0.0/8", "::1/128"], '
                 'deny = ["127.0.0.66", "192.0.2.0/24", "2001:db8::/32"] }'),
    "cors": ("a same-origin request (no Origin): checked and let through",
             '{ allowed_origins = ["https://app.example.com"], allowed_methods = ["GET", "POST"] }'),
    "ratelimit": ("token bucket per client IP in the memory kv store (never refuses)",
                  '{ limits = [{ name = "fast", rate = 100000000, per = "1s" }] }'),
    "auth": ("verifies the HS256 JWT (signature, exp, iss, aud), claims to headers",
             f'{{ jwt = {{ algorithms = ["HS256"], hmac_secrets = ["{JWT_SECRET}"], issuer = "bench", '
             f'audience = "bench", claims_to_headers = {{ sub = "x-user-id" }} }} }}'),
    "cache": ("every request a HIT (the origin's answer cached for 10 minutes)",
              '{ default_ttl = 600 }'),
    "rewrite": ("regex path rewrite with a capture, a request header set, a response header removed",
                '{ rules = [{ path = "^/bytes/(\\\\d+)$", rewrite = "/bytes/$1" }], '
                'request = { set = { x-bench = "1" } }, response = { remove = ["x-origin"] } }'),
}

PLAIN_PORTS = (18083, 18443, 19903)


def plan(quick: bool) -> runner.Plan:
    cells = tuple(runner.Cell("h1", size, 16) for size in (2, 16384))
    if quick:
        return runner.Plan(cells, 1, 2, 1, 0, 0, 0, 0, 5, oha="")
    return runner.Plan(cells, 3, 4, 1, 0, 0, 0, 0, 20, oha="")


def start_targets(binary: Path, tmp: Path, cert: Path, key: Path, versions: dict,
                  components: dict[str, Path], error: str | None) -> list:
    cpu = runner.PROXY_CPU
    out = [targets.nginx(tmp, cert, key, cpu, versions["nginx"]),
           targets.ravelin("ravelin", "Ravelin", binary, tmp, cert, key, cpu, PLAIN_PORTS, None, error)]
    for i, (name, (_, settings)) in enumerate(COST_CONFIG.items()):
        ports = (18100 + i, 18500 + i, 19920 + i)
        component = components.get(name)
        why = error or (None if component else f"no {name} component was built")
        plugins = {name: (component, settings)} if component else None
        out.append(targets.ravelin(f"ravelin+{name}", f"Ravelin + {name}", binary, tmp, cert, key,
                                   cpu, ports, plugins, why))
    return out


def markdown(results: dict) -> str:
    """The per-plugin rows for docs/benchmarks.md."""
    table = results["summary"]["throughput"]
    lines = [f"Plugin costs, {results['meta']['started']}, commit {results['meta']['commit']} "
             f"({results['plan']['rounds']} rounds, medians; CPU µs per request of the proxy's "
             "process, HTTP/1.1, 16 connections)", ""]
    cells = sorted(table, key=lambda c: int(c.split("/")[1][:-1]))
    head = "| plugin | what it does on each request |"
    rule = "|---|---|"
    for cell in cells:
        size = cell.split("/")[1]
        head += f" {size}: µs/req | × Ravelin | × nginx |"
        rule += "---:|---:|---:|"
    lines += [head, rule]
    names = ["nginx", "ravelin", *(f"ravelin+{n}" for n in COST_CONFIG)]
    skipped = {t["name"]: t["skipped"] for t in results["targets"] if t["skipped"]}
    for name in names:
        what = COST_CONFIG[name.split("+", 1)[1]][0] if "+" in name else "—"
        label = name.split("+", 1)[1] if "+" in name else {"nginx": "nginx", "ravelin": "Ravelin plain"}[name]
        if name in skipped:
            lines.append(f"| {label} | not measured: {skipped[name][:160]} |")
            continue
        row = f"| {label} | {what} |"
        for cell in cells:
            fig = table.get(cell, {}).get(name)
            plain = table.get(cell, {}).get("ravelin", {}).get("cpu_us_per_req")
            if not fig or fig["cpu_us_per_req"] is None:
                row += " — | — | — |"
                continue
            vs_plain = f"{fig['cpu_us_per_req'] / plain:.2f}×" if plain else "—"
            row += f" {fig['cpu_us_per_req']:.1f} | {vs_plain} | {fig['cpu_vs_nginx'] or 0:.2f}× |"
        lines.append(row)
    return "\n".join(lines) + "\n"


def measure(args, repo: Path, tmp: Path, log, build_error: str | None, origin_kind: str) -> dict:
    components, error = setup.plugin_components(repo, tmp, not args.no_build, tuple(COST_CONFIG))
    cert, key = setup.self_signed_cert(tmp)
    versions = setup.versions(None)
    p = plan(args.quick)
    quiet_log = []
    origin = targets.start_origin(origin_kind, repo, tmp, runner.LOAD_CPU)
    all_targets = start_targets(repo / "target/release/ravelin", tmp, cert, key, versions,
                                components, build_error or error)
    for t in all_targets:
        log(f"target {t.name}: " + (f"not available: {t.skipped}" if t.skipped else f"pid {t.proc.pid}"))
    live = [t for t in all_targets if not t.skipped]
    samples = runner.run_rounds(live, origin, p, quiet_log)
    return {
        "meta": {"started": args.started, "mode": "plugin-costs" + (" quick" if args.quick else ""),
                 "machine": system.describe_machine(), "versions": versions, "commit": args.commit,
                 "bearer_token": BEARER_TOKEN},
        "plan": {"rounds": p.rounds, "seconds": p.seconds, "cells": [c.key for c in p.cells]},
        "quiet": quiet_log,
        "targets": [{"name": t.name, "label": t.label, "skipped": t.skipped} for t in all_targets],
        "samples": samples,
        "summary": {"throughput": summary.throughput(samples)},
    }
