"""From raw samples to the figures a reader compares: per cell and target
the median over rounds, and each figure as a ratio to nginx's in the same
run. `figures()` flattens them for the baseline comparison."""

from statistics import median

REFERENCE = "nginx"


def _ratio(value, ref):
    return round(value / ref, 3) if value is not None and ref else None


def _median(values):
    values = [v for v in values if v is not None]
    return round(median(values), 3) if values else None


def throughput(samples: list[dict]) -> dict:
    out: dict = {}
    for s in samples:
        if s["cell"] == "latency" or "error" in s:
            continue
        out.setdefault(s["cell"], {}).setdefault(s["target"], []).append(s)
    table = {}
    for cell, by_target in out.items():
        row = {}
        for target, ss in by_target.items():
            row[target] = {
                "rps": _median([x["rps"] for x in ss]),
                "cpu_us_per_req": _median([x["cpu_us_per_req"] for x in ss]),
                "proxy_core_util": _median([x["proxy_core_util"] for x in ss]),
                "load_core_util": _median([x["load_core_util"] for x in ss]),
                "foreign_cores_max": max(x["foreign_cores"] for x in ss),
                "errors": sum(x["errors"] for x in ss),
                "error_rate": round(sum(x["errors"] for x in ss)
                                    / max(1, sum(x["errors"] + x["requests"] for x in ss)), 4),
                "rounds": len(ss),
            }
        ref = row.get(REFERENCE, {})
        for fig in row.values():
            fig["rps_vs_nginx"] = _ratio(fig["rps"], ref.get("rps"))
            fig["cpu_vs_nginx"] = _ratio(fig["cpu_us_per_req"], ref.get("cpu_us_per_req"))
        table[cell] = row
    return table


def latency(samples: list[dict]) -> dict:
    by_target: dict = {}
    for s in samples:
        if s["cell"] == "latency" and "error" not in s:
            by_target.setdefault(s["target"], []).append(s)
    table = {t: {"rate": ss[0]["rate"],
                 "p50_ms": _median([x["p50_ms"] for x in ss]),
                 "p99_ms": _median([x["p99_ms"] for x in ss]),
                 "p99_best_ms": min(x["p99_ms"] for x in ss),
                 "p999_ms": _median([x["p999_ms"] for x in ss]),
                 "success_rate": min(x["success_rate"] for x in ss)}
             for t, ss in by_target.items()}
    ref = table.get(REFERENCE, {})
    for fig in table.values():
        fig["p50_vs_nginx"] = _ratio(fig["p50_ms"], ref.get("p50_ms"))
        fig["p99_vs_nginx"] = _ratio(fig["p99_ms"], ref.get("p99_ms"))
    return table


def memory(mem: dict) -> dict:
    ref = mem.get(REFERENCE, {})
    for fig in mem.values():
        fig["peak_vs_nginx"] = _ratio(fig.get("peak_rss_kib"), ref.get("peak_rss_kib"))
        fig["idle_vs_nginx"] = _ratio(fig.get("idle_rss_kib"), ref.get("idle_rss_kib"))
    return mem


# name, where it lives, and whether higher is better
FIGURES = (
    ("rps", "throughput", True),
    ("cpu_us_per_req", "throughput", False),
    ("p50_ms", "latency", False),
    ("p99_ms", "latency", False),
    ("peak_rss_kib", "memory", False),
    ("idle_rss_kib", "memory", False),
)


def figures(summary: dict) -> dict[str, tuple[float, bool]]:
    """'section/cell/target/figure' -> (value, higher_is_better)."""
    flat = {}
    for name, section, higher in FIGURES:
        data = summary.get(section, {})
        if section == "throughput":
            for cell, row in data.items():
                for target, fig in row.items():
                    if fig.get(name) is not None:
                        flat[f"{cell}/{target}/{name}"] = (fig[name], higher)
        else:
            for target, fig in data.items():
                if fig.get(name) is not None:
                    flat[f"{section}/{target}/{name}"] = (fig[name], higher)
    return flat
