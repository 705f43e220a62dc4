"""Typed views of the request and response the host lends to a hook, with
text helpers over the header bytes, and the body modes a hook asks for.

Header values are the bytes on the wire (``header``, ``header_all``,
``headers``); the ``_str`` variants give them as text when they are UTF-8,
and ``set_header`` / ``add_header`` take ``str`` or ``bytes`` alike.
"""

from wit_world.imports import types as wit

from .errors import call


def whole(max_bytes, over_limit="reject"):
    """Body mode: the body buffered by the host, then one body-hook call.
    ``over_limit``: ``"reject"`` (413, or the failure policy for a
    response), ``"skip"`` (no body hook this time) or ``"inspect-prefix"``
    (the hook sees the first ``max_bytes`` only)."""
    return wit.BodyMode_Whole(_limit(max_bytes, over_limit))


def chunked(max_bytes, over_limit="reject"):
    """Body mode: one chunk-hook call per chunk as it arrives; ``max_bytes``
    bounds what the plugin may hold back."""
    return wit.BodyMode_Chunked(_limit(max_bytes, over_limit))


_OVER_LIMIT = {
    "reject": wit.OverLimit.REJECT,
    "skip": wit.OverLimit.SKIP,
    "inspect-prefix": wit.OverLimit.INSPECT_PREFIX,
}


def _limit(max_bytes, over_limit):
    if over_limit not in _OVER_LIMIT:
        raise ValueError(f"over_limit must be one of {sorted(_OVER_LIMIT)}, got {over_limit!r}")
    return wit.BodyLimit(max_bytes, _OVER_LIMIT[over_limit])


def _bytes(value):
    return value.encode() if isinstance(value, str) else bytes(value)


def _text(value):
    if value is None:
        return None
    try:
        return value.decode()
    except UnicodeDecodeError:
        return None


class _Headers:
    """The header and trailer methods shared by :class:`Request` and
    :class:`Response`; ``self._raw`` is the borrowed host resource."""

    def header(self, name):
        """The first value of header ``name`` (case-insensitive) as bytes, or ``None``."""
        return self._raw.header(name)

    def header_str(self, name):
        """The first value of header ``name`` as text; ``None`` when absent or not UTF-8."""
        return _text(self._raw.header(name))

    def header_all(self, name):
        """Every value of header ``name``, in order, as bytes."""
        return self._raw.header_all(name)

    def headers(self):
        """Every header field as ``(name, value bytes)`` pairs, in order."""
        return [(f.name, f.value) for f in self._raw.headers()]

    def set_header(self, name, value):
        """Sets header ``name`` to ``value`` (``str`` or ``bytes``), replacing
        earlier values; raises :class:`RavelinError` on an invalid name or value."""
        call(self._raw.set_header, name, _bytes(value))

    def add_header(self, name, value):
        """Appends ``value`` to header ``name``."""
        call(self._raw.add_header, name, _bytes(value))

    def remove_header(self, name):
        """Removes every value of header ``name``."""
        self._raw.remove_header(name)

    def trailers(self):
        """The trailer fields after the body, as ``(name, value)`` pairs:
        known in the body hooks once the whole body was read, else empty."""
        return [(f.name, f.value) for f in self._raw.trailers()]

    def set_trailer(self, name, value):
        """Sets trailer ``name``; only where :meth:`trailers` is known."""
        call(self._raw.set_trailer, name, _bytes(value))

    def remove_trailer(self, name):
        """Removes trailer ``name``; only where :meth:`trailers` is known."""
        call(self._raw.remove_trailer, name)

    def want_body(self, mode):
        """Asks for the body in this exchange (:func:`whole` or
        :func:`chunked`), from ``on_request`` / ``on_response`` only."""
        call(self._raw.want_body, mode)


class Request(_Headers):
    """The request being handled, borrowed from the host for one hook call:
    reads and writes go to the host's copy. Read-only in ``on_log``."""

    def __init__(self, raw):
        self._raw = raw

    def method(self):
        """The method, such as ``"GET"``."""
        return self._raw.method()

    def scheme(self):
        """``"http"`` or ``"https"``."""
        return self._raw.scheme()

    def http_version(self):
        """``"HTTP/1.0"``, ``"HTTP/1.1"``, ``"HTTP/2"`` or ``"HTTP/3"``."""
        return _VERSIONS[self._raw.http_version()]

    def path_with_query(self):
        """The path and query, such as ``"/a?b=c"``."""
        return self._raw.path_with_query()

    def path(self):
        """The path without the query."""
        return self._raw.path_with_query().split("?", 1)[0]

    def query(self):
        """The query (after ``?``), or ``None``."""
        parts = self._raw.path_with_query().split("?", 1)
        return parts[1] if len(parts) == 2 else None

    def query_param(self, name):
        """The first value of query parameter ``name``, not decoded, or ``None``."""
        for pair in (self.query() or "").split("&"):
            key, _, value = pair.partition("=")
            if key == name:
                return value
        return None

    def set_path_with_query(self, value):
        """Replaces the path and query; ``value`` must start with ``/``."""
        call(self._raw.set_path_with_query, value)

    def authority(self):
        """The authority (host and optional port), or ``None``."""
        return self._raw.authority()

    def client_addr(self):
        """The client's ``ip:port`` as the proxy determined it, or ``None``."""
        return self._raw.client_addr()

    def peer_addr(self):
        """The TCP peer's ``ip:port``, or ``None``."""
        return self._raw.peer_addr()

    def tls(self):
        """The client's TLS facts (``sni``, ``alpn``, ``version``,
        ``cipher``, ``client_cert``), or ``None`` for plain text."""
        return self._raw.tls()

    def route(self):
        """The name of the route that matched."""
        return self._raw.route()

    def request_id(self):
        """The proxy's id for this request."""
        return self._raw.request_id()

    def attribute(self, name):
        """The attribute ``name`` an earlier plugin of this exchange set, or ``None``."""
        return self._raw.attribute(name)

    def set_attribute(self, name, value):
        """Sets attribute ``name`` for the later hooks and plugins of this exchange."""
        call(self._raw.set_attribute, name, value)


_VERSIONS = {
    wit.HttpVersion.HTTP10: "HTTP/1.0",
    wit.HttpVersion.HTTP11: "HTTP/1.1",
    wit.HttpVersion.HTTP2: "HTTP/2",
    wit.HttpVersion.HTTP3: "HTTP/3",
}


class Response(_Headers):
    """The response, borrowed from the host for one response hook call."""

    def __init__(self, raw):
        self._raw = raw

    def status(self):
        """The status code."""
        return self._raw.status()

    def set_status(self, status):
        """Sets the status code (100 to 999)."""
        call(self._raw.set_status, status)
