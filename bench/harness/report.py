"""The run's outputs: a Markdown report and an SVG chart (drawn here, no
third-party libraries), both from the results JSON."""

from html import escape

from .targets import PROTO_LABEL

ORDER = ("direct", "nginx", "haproxy", "ravelin", "ravelin-plugins")
NAMES = {"direct": "direct (origin)", "nginx": "nginx", "haproxy": "HAProxy",
         "ravelin": "Ravelin", "ravelin-plugins": "Ravelin + 3 plugins"}
COLORS = {"direct": "#9e9e9e", "nginx": "#2e7d32", "haproxy": "#1565c0",
          "ravelin": "#c62828", "ravelin-plugins": "#ef6c00"}


def _targets(results: dict) -> list[str]:
    present = {t["name"] for t in results["targets"] if not t.get("skipped")}
    return [t for t in ORDER if t in present]


def _cell_label(cell: str) -> tuple[str, str, str]:
    proto, size, conc = cell.split("/")
    size = "16 KiB" if size == "16384B" else size.replace("B", " B")
    return PROTO_LABEL[proto], size, conc[1:]


def _fmt(value, ratio, digits=0) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return f"{text} ({ratio:.2f}×)" if ratio is not None else text


def markdown(results: dict) -> str:
    m, p = results["meta"], results["plan"]
    targets = [t for t in _targets(results)]
    out = [f"### Run of {m['started']} ({m['mode']} mode, commit {m.get('commit', '?')})", ""]
    out += [f"- Machine: {m['machine']['cpu']}, {m['machine']['cores']} cores, "
            f"{m['machine']['memory_gib']} GiB, {m['machine']['kernel']}",
            f"- Method: {p['rounds']} round(s) of {p['seconds']} s per cell and target (after a "
            f"{p['warmup_s']} s warm-up), targets alternating within each cell; proxy pinned to "
            f"CPU 0 with one worker, load generator and origin ({m['origin']}) on CPU 1; "
            f"medians over rounds; ratios are to nginx in the same run.",
            f"- Tools: " + ", ".join(f"{k} `{v}`" for k, v in m["versions"].items()),
            f"- Quiet: " + _quiet_text(results), ""]
    out += _throughput_table(results, targets, "rps", "rps_vs_nginx",
                             "Throughput, median requests/s (× nginx)", 0)
    out += _throughput_table(results, targets, "cpu_us_per_req", "cpu_vs_nginx",
                             "Proxy CPU time per request, µs (× nginx; lower is better)", 1)
    out += _latency_table(results, targets)
    out += _memory_table(results, targets)
    out += _notes(results)
    return "\n".join(out) + "\n"


def _quiet_text(results: dict) -> str:
    loud = [q for q in results["quiet"] if not q["quiet"]]
    if not loud:
        return "the machine was quiet before every round."
    return "NOT quiet before " + ", ".join(
        f"{q['before']} ({q['busy_cores']} cores busy, load {q['loadavg']})" for q in loud) + \
        "; see `foreign_cores` per sample in the JSON."


def _throughput_table(results, targets, key, ratio_key, title, digits) -> list[str]:
    head = "| protocol | body | concurrency | " + " | ".join(NAMES[t] for t in targets) + " |"
    out = [f"#### {title}", "", head, "|" + "---|" * (3 + len(targets))]
    for cell, row in results["summary"]["throughput"].items():
        cols = [_fmt(row.get(t, {}).get(key), row.get(t, {}).get(ratio_key), digits)
                + (" †" if row.get(t, {}).get("errors") else "") for t in targets]
        out.append("| " + " | ".join([*_cell_label(cell), *cols]) + " |")
    return out + [""]


def _latency_table(results, targets) -> list[str]:
    lat = results["summary"]["latency"]
    p = results["plan"]
    if results.get("latency_skipped"):
        return ["#### Latency", "", f"Not measured: {results['latency_skipped']}", ""]
    out = [f"#### Latency at {p['latency_rate']:,} requests/s, open loop (oha, HTTP/1.1, 2 B, "
           f"{p['latency_conc']} connections, corrected for coordinated omission)", "",
           "| target | p50 ms | p99 ms | p99.9 ms | p99 × nginx | p99 of the least disturbed round, ms |",
           "|---|---|---|---|---|---|"]
    for t in targets:
        if t in lat:
            f = lat[t]
            out.append(f"| {NAMES[t]} | {f['p50_ms']} | {f['p99_ms']} | {f['p999_ms']} | "
                       f"{_fmt(f['p99_vs_nginx'], None, 2)} | {f.get('p99_best_ms', '—')} |")
    return out + [""]


def _memory_table(results, targets) -> list[str]:
    mem = results["summary"]["memory"]
    n = results["plan"]["idle_conns"]
    out = ["#### Memory", "",
           f"| target | peak RSS under load, MiB (× nginx) | RSS holding {n:,} idle keep-alive "
           f"connections, MiB (× nginx) | connections held |", "|---|---|---|---|"]
    for t in targets:
        if t in mem:
            f = mem[t]
            out.append(f"| {NAMES[t]} | {_fmt(_mib(f['peak_rss_kib']), f['peak_vs_nginx'], 1)} | "
                       f"{_fmt(_mib(f['idle_rss_kib']), f['idle_vs_nginx'], 1)} | {f['idle_conns_held']:,} |")
    return out + [""]


def _mib(kib):
    return kib / 1024 if kib else None


def _notes(results) -> list[str]:
    notes = [f"- {NAMES.get(t['name'], t['name'])}: not available: {t['skipped']}"
             for t in results["targets"] if t.get("skipped")]
    for cell, row in results["summary"]["throughput"].items():
        for t, f in row.items():
            if f["errors"]:
                notes.append(f"- † {cell} {t}: {f['errors']:,} failed requests "
                             f"({f.get('error_rate', 0):.1%}; not counted in req/s)")
            if f["load_core_util"] and f["load_core_util"] > 0.95 and f["proxy_core_util"] < 0.9:
                notes.append(f"- {cell} {t}: the load core was saturated ({f['load_core_util']:.2f}) "
                             f"while the proxy used {f['proxy_core_util']:.2f} of its core: "
                             "req/s is a floor, compare CPU per request")
    foreign = sorted(s["foreign_cores"] for s in results["samples"] if "foreign_cores" in s)
    if foreign and foreign[-1] > 0.15:
        notes.append(f"- Other processes ran during the samples: median {foreign[len(foreign) // 2]:.2f}, "
                     f"max {foreign[-1]:.2f} cores busy besides the proxy, origin and load "
                     "generator (`foreign_cores` per sample in the JSON). Throughput is then "
                     "lower than on a quiet machine; CPU per request is the steadier figure.")
    errors = [s for s in results["samples"] if "error" in s]
    notes += [f"- round {s['round']} {s['cell']} {s['target']}: failed: {s['error'][:200]}"
              for s in errors]
    return (["#### Notes", "", *notes, ""] if notes else [])


def svg(results: dict) -> str:
    """Two panels: req/s ÷ nginx and CPU per request ÷ nginx, per cell."""
    targets = _targets(results)
    thr = results["summary"]["throughput"]
    cells = list(thr)
    panels = [("Requests/s ÷ nginx (higher is better)", "rps_vs_nginx"),
              ("Proxy CPU per request ÷ nginx (lower is better)", "cpu_vs_nginx")]
    W, PH, L, TOP = 960, 260, 60, 40
    H = TOP + len(panels) * (PH + 90) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{W}" height="{H}" fill="white"/>',
             f'<text x="{L}" y="22" font-size="15" font-weight="bold">Ravelin vs nginx and HAProxy '
             f'— {escape(results["meta"]["started"])}, one worker each</text>']
    for i, (title, key) in enumerate(panels):
        y0 = TOP + i * (PH + 90) + 20
        parts += _panel(thr, cells, targets, key, title, L, y0, W - L - 20, PH)
    lx = L
    for t in targets:
        parts.append(f'<rect x="{lx}" y="{H - 22}" width="12" height="12" fill="{COLORS[t]}"/>'
                     f'<text x="{lx + 16}" y="{H - 12}">{escape(NAMES[t])}</text>')
        lx += 30 + 7 * len(NAMES[t])
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _panel(thr, cells, targets, key, title, x0, y0, w, h) -> list[str]:
    values = [thr[c].get(t, {}).get(key) for c in cells for t in targets]
    top = max([v for v in values if v] + [1.2]) * 1.1
    ys = lambda v: y0 + h - v / top * h
    out = [f'<text x="{x0}" y="{y0 - 6}" font-size="13">{escape(title)}</text>',
           f'<line x1="{x0}" y1="{y0 + h}" x2="{x0 + w}" y2="{y0 + h}" stroke="black"/>',
           f'<line x1="{x0}" y1="{ys(1)}" x2="{x0 + w}" y2="{ys(1)}" stroke="#555" stroke-dasharray="4 3"/>']
    step = 0.5 if top < 3 else 1.0
    v = 0.0
    while v <= top and v < 100:
        out.append(f'<text x="{x0 - 6}" y="{ys(v) + 4}" text-anchor="end">{v:g}×</text>')
        v += step
    group = w / max(1, len(cells))
    bar = min(22, (group - 10) / max(1, len(targets)))
    for ci, cell in enumerate(cells):
        gx = x0 + ci * group + (group - bar * len(targets)) / 2
        for ti, t in enumerate(targets):
            v = thr[cell].get(t, {}).get(key)
            if v:
                out.append(f'<rect x="{gx + ti * bar:.1f}" y="{ys(v):.1f}" width="{bar - 2:.1f}" '
                           f'height="{y0 + h - ys(v):.1f}" fill="{COLORS[t]}">'
                           f'<title>{escape(NAMES[t])} {cell}: {v:.2f}×</title></rect>')
        proto, size, conc = _cell_label(cell)
        short = proto.replace("HTTP/1.1", "h1").replace("HTTP/2", "h2").replace(" + TLS 1.3", " TLS")
        cx = x0 + ci * group + group / 2
        out.append(f'<text x="{cx:.1f}" y="{y0 + h + 14}" text-anchor="middle">{escape(short)}</text>')
        out.append(f'<text x="{cx:.1f}" y="{y0 + h + 27}" text-anchor="middle">{escape(size)}, c{conc}</text>')
    return out
