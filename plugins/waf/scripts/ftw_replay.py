#!/usr/bin/env python3
"""Replays the OWASP CRS go-ftw regression tests (YAML) against a WAF and
reports detection and false positives per category.

A test whose output expects `log_contains` is an attack: detected when the
WAF answers 403. A test expecting `no_log_contains` is benign: a false
positive when answered 403. Requests refused before the WAF (another 4xx
but 404, or 501: the server's HTTP parser) are counted apart. Other tests are not counted. POST data without
a Content-Type gets `application/x-www-form-urlencoded`, and a
Content-Length is added when the test sets none. Only the first stage of a
test is sent.

    python3 ftw_replay.py TESTS_DIR HOST:PORT [LABEL]

(TESTS_DIR: tests/regression/tests of a coreruleset checkout; needs PyYAML.
With FTW_DUMP=FILE, each test's title, kind and verdict go to FILE.)
"""
import base64
import glob
import os
import socket
import sys

import yaml

CATEGORIES = {
    "913": "scanner", "920": "protocol", "921": "protocol", "922": "multipart",
    "930": "lfi", "931": "rfi", "932": "rce", "933": "php",
    "941": "xss", "942": "sqli", "943": "session-fixation",
}


def request_bytes(inp):
    if inp.get("encoded_request"):
        return base64.b64decode(inp["encoded_request"])
    if inp.get("raw_request"):
        return inp["raw_request"].encode("latin-1", "replace")
    method = inp.get("method", "GET")
    uri = inp.get("uri", "/")
    version = inp.get("version", "HTTP/1.1")
    headers = dict(inp.get("headers") or {})
    data = inp.get("data")
    if isinstance(data, list):
        data = "\r\n".join(data)
    body = (data or "").encode("latin-1", "replace")
    names = {k.lower() for k in headers}
    if body and "content-type" not in names:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if body and "content-length" not in names and "transfer-encoding" not in names:
        headers["Content-Length"] = str(len(body))
    headers["Connection"] = "close"
    head = f"{method} {uri} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode("latin-1", "replace") + b"\r\n" + body


def status_of(target, raw):
    host, port = target.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(raw)
            reply = b""
            while len(reply) < 12:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return int(reply[9:12])
    except (OSError, ValueError):
        return 0


def main():
    tests_dir, target = sys.argv[1], sys.argv[2]
    label = sys.argv[3] if len(sys.argv) > 3 else target
    counts = {}
    dump = open(os.environ["FTW_DUMP"], "w") if os.environ.get("FTW_DUMP") else None
    for path in sorted(glob.glob(os.path.join(tests_dir, "*", "*.yaml"))):
        rule_file = os.path.basename(os.path.dirname(path))
        category = CATEGORIES.get(rule_file.split("-")[1], "other")
        with open(path, encoding="utf-8", errors="replace") as f:
            doc = yaml.safe_load(f)
        for test in doc.get("tests") or []:
            stage = (test.get("stages") or [{}])[0].get("stage", {})
            out = stage.get("output") or {}
            if "log_contains" in out:
                kind = "attack"
            elif "no_log_contains" in out:
                kind = "benign"
            else:
                continue
            status = status_of(target, request_bytes(stage.get("input") or {}))
            blocked = status == 403
            refused = status == 501 or (400 <= status < 500 and status not in (403, 404))
            if dump:
                dump.write(f"{test.get('test_title')} {kind} {int(blocked)} {status}\n")
            c = counts.setdefault(category, {"attack": [0, 0, 0], "benign": [0, 0, 0]})
            c[kind][0] += 1
            c[kind][1] += int(blocked)
            c[kind][2] += int(refused)
    total = {"attack": [0, 0, 0], "benign": [0, 0, 0]}
    print(f"## {label}")
    print("| category | attacks blocked | detection | refused before the WAF | benign blocked | false positives | refused before the WAF |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    rate = lambda n, d: f"{100.0 * n / d:.1f}%" if d else "-"
    for category in sorted(counts):
        a, b = counts[category]["attack"], counts[category]["benign"]
        for k in total:
            for i in range(3):
                total[k][i] += counts[category][k][i]
        print(f"| {category} | {a[1]}/{a[0]} | {rate(a[1], a[0])} | {a[2]} | {b[1]}/{b[0]} | {rate(b[1], b[0])} | {b[2]} |")
    a, b = total["attack"], total["benign"]
    print(f"| **all** | {a[1]}/{a[0]} | {rate(a[1], a[0])} | {a[2]} | {b[1]}/{b[0]} | {rate(b[1], b[0])} | {b[2]} |")


if __name__ == "__main__":
    main()
