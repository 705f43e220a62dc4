"""The regression guard: each figure of this run as a ratio to a stored
baseline, flagged when it got worse by more than a threshold. The basis
`nginx` first divides each figure by nginx's from the same run, which
cancels most of a busy or different machine; `absolute` compares raw."""

import json
from pathlib import Path

from .summary import REFERENCE, figures


def _normalised(flat: dict) -> dict:
    """Each figure divided by nginx's same figure (same cell, same run)."""
    out = {}
    for key, (value, higher) in flat.items():
        cell, target, name = key.rsplit("/", 2)
        ref = flat.get(f"{cell}/{REFERENCE}/{name}")
        if ref and ref[0]:
            out[key] = (value / ref[0], higher)
    return out


def compare(current: dict, baseline_path: Path, threshold: float, basis: str) -> tuple[str, int]:
    """A printable table and the number of regressions."""
    base = json.loads(baseline_path.read_text())
    cur_raw, base_raw = figures(current["summary"]), figures(base["summary"])
    cur_n, base_n = _normalised(cur_raw), _normalised(base_raw)
    lines = [f"Compared with {baseline_path} ({base['meta']['started']}, {base['meta']['mode']} mode); "
             f"basis: {basis}, threshold {threshold:.0%}",
             f"{'figure':52} {'baseline':>11} {'now':>11} {'ratio':>7} {'vs-nginx ratio':>15}"]
    if base["meta"]["mode"] != current["meta"]["mode"]:
        lines.insert(1, f"WARNING: this is a {current['meta']['mode']} run and the baseline a "
                        f"{base['meta']['mode']} one: only the cells both have are compared")
    regressions = 0
    for key in sorted(set(cur_raw) & set(base_raw)):
        (now, higher), (was, _) = cur_raw[key], base_raw[key]
        raw = now / was if was else None
        norm = (cur_n[key][0] / base_n[key][0]) if key in cur_n and key in base_n and base_n[key][0] else None
        reference = basis == "nginx" and f"/{REFERENCE}/" in key  # the yardstick itself
        judged = None if reference else (norm if basis == "nginx" else raw)
        worse = judged is not None and (judged < 1 - threshold if higher else judged > 1 + threshold)
        regressions += worse
        lines.append(f"{key:52} {was:>11.2f} {now:>11.2f} {_r(raw):>7} {_r(norm):>15}"
                     + ("  REGRESSION" if worse else "  (reference)" if reference else ""))
    missing = sorted(set(base_raw) - set(cur_raw))
    if missing:
        lines.append(f"{len(missing)} baseline figure(s) not measured now, e.g. {missing[0]}")
    lines.append(f"{regressions} regression(s) beyond {threshold:.0%}")
    return "\n".join(lines), regressions


def _r(x) -> str:
    return f"{x:.3f}" if x is not None else "—"
