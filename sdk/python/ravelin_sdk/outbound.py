"""HTTP calls to the upstream clusters listed in the plugin's
``allowed_upstreams``. :func:`start` several calls, then ``wait`` for each;
:func:`send` does both. Waiting does not count against the hook's CPU
deadline. Failures raise :class:`OutboundError`.

    answer = outbound.get("flags", "/flag", timeout_ms=2000)
    if answer.status == 200: ...
"""

from componentize_py_types import Err
from wit_world.imports import outbound as wit
from wit_world.imports import types


class OutboundError(Exception):
    """The call could not be made or got no answer (the message says why)."""


def _call(function, *args):
    try:
        return function(*args)
    except Err as failed:
        raise OutboundError(str(failed.value)) from None


class HttpResponse:
    """The upstream's answer: ``status``, ``headers`` as ``(name, bytes)``
    pairs, ``body`` bytes."""

    def __init__(self, raw):
        self.status = raw.status
        self.headers = [(f.name, f.value) for f in raw.headers]
        self.body = raw.body

    def header(self, name):
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        name = name.lower()
        return next((v for n, v in self.headers if n.lower() == name), None)

    def text(self):
        """The body as text (invalid UTF-8 replaced)."""
        return self.body.decode(errors="replace")


def request(method, path_with_query, headers=None, body=b""):
    """A request for :func:`start` / :func:`send`; ``headers`` as ``(name, value)`` pairs."""
    fields = [
        types.Field(n, v.encode() if isinstance(v, str) else v) for n, v in (headers or [])
    ]
    body = body.encode() if isinstance(body, str) else bytes(body)
    return wit.OutboundRequest(method, path_with_query, fields, body)


class Pending:
    """A call in flight, from :func:`start`."""

    def __init__(self, raw):
        self._raw = raw

    def wait(self):
        """Waits for the answer (bounded by the call's timeout)."""
        return HttpResponse(_call(self._raw.wait))


def start(cluster, req, timeout_ms=1000):
    """Starts sending ``req`` to ``cluster`` and returns at once."""
    return Pending(_call(wit.start, cluster, req, timeout_ms))


def send(cluster, req, timeout_ms=1000):
    """Sends ``req`` to ``cluster`` and waits at most ``timeout_ms`` for the answer."""
    return HttpResponse(_call(wit.send, cluster, req, timeout_ms))


def get(cluster, path, headers=None, timeout_ms=1000):
    """A ``GET`` of ``path`` on ``cluster``."""
    return send(cluster, request("GET", path, headers), timeout_ms)
