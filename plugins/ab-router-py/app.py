"""The A/B router in Python: the same plugin as the Rust reference
(``plugins/ab-router/src/lib.rs``, which states the behaviour), held to the
same end-to-end tests (``tests/tests/lang_python.rs``).

Config: ``{ lang = "python", split = 50, flag_upstream = "flags" }``.
Build: ``./build.sh`` (componentize-py; the component is
``target/ab_router_py.wasm``).
"""

from dataclasses import dataclass
from typing import Optional

from ravelin_sdk import Hooks, Plugin, Reply, export, kv, log, outbound, whole
from ravelin_sdk.kv import KvError
from ravelin_sdk.outbound import OutboundError

UPPER_LIMIT = 64 * 1024
"""The largest body ``/ab/upper`` takes."""

FLAG_TIMEOUT_MS = 2000
"""How long ``/ab/flag`` waits for the flag service."""


@dataclass
class Settings:
    lang: str
    """The implementation's name, answered in ``x-ab-lang``."""
    split: int = 50
    """Percent of assigned requests that go to bucket ``a``."""
    flag_upstream: Optional[str] = None
    """The upstream cluster ``/ab/flag`` calls."""


class AbRouter(Plugin):
    hooks = Hooks.ON_RESPONSE

    def __init__(self, config):
        self.settings = config.parse(Settings)
        if not 0 <= self.settings.split <= 100:
            raise ValueError(f"split must be 0 to 100, got {self.settings.split}")
        self.bucket = "a"
        """The bucket of the exchange this instance is serving."""

    def on_request(self, req):
        if req.header_str("x-ab-trap") == "1":
            raise RuntimeError("x-ab-trap asked for a trap")
        if req.header_str("x-ab-block") == "1":
            return Reply.text(403, "blocked")
        try:
            self.bucket = self.assign(req)
        except KvError as e:
            return Reply.text(503, str(e))
        path = req.path()
        log.info(f"ab bucket={self.bucket} path={path}")
        route = (req.method(), path)
        if route == ("GET", "/ab/health"):
            return Reply.text(200, f"ok from {self.settings.lang}")
        if route == ("GET", "/ab/visits"):
            return self.visits()
        if route == ("GET", "/ab/flag"):
            return self.flag()
        if route == ("POST", "/ab/upper"):
            req.want_body(whole(UPPER_LIMIT))
        req.set_header("x-ab-bucket", self.bucket)
        req.remove_header("x-debug")
        return None

    def on_request_body(self, req, body, truncated):
        return body.upper()  # bytes.upper() changes ASCII letters only

    def on_response(self, req, resp):
        resp.set_header("x-ab-lang", self.settings.lang)
        resp.set_header("x-ab-bucket", self.bucket)
        return None

    def assign(self, req):
        """The client's bucket, or a new one from the kv counter."""
        asked = req.header_str("x-ab-bucket")
        if asked in ("a", "b"):
            return asked
        n = kv.Store.open("ab").increment("assigned")
        split = self.settings.split
        return "a" if n * split % 100 < split else "b"

    def visits(self):
        try:
            return Reply.text(200, str(kv.Store.open("ab").increment("visits")))
        except KvError as e:
            return Reply.text(503, str(e))

    def flag(self):
        cluster = self.settings.flag_upstream
        if cluster is None:
            return Reply.text(502, "flag unavailable")
        try:
            answer = outbound.get(cluster, "/flag", timeout_ms=FLAG_TIMEOUT_MS)
        except OutboundError as e:
            log.warn(f"flag service: {e}")
            return Reply.text(502, "flag unavailable")
        if not 200 <= answer.status < 300:
            log.warn(f"flag service answered {answer.status}")
            return Reply.text(502, "flag unavailable")
        return Reply.text(200, f"flag:{answer.text()}")


WitWorld = export(AbRouter)
