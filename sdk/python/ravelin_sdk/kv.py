"""The plugin's key-value stores: named, namespaced per plugin, on the
backend the operator chose (memory or Redis). Every call may raise
:class:`KvError` (``kind`` ``"unavailable"`` when the backend cannot answer
in time); the plugin decides what that means.

    store = kv.Store.open("ab")
    visits = store.increment("visits")
"""

from componentize_py_types import Err
from wit_world.imports import kv as wit


class KvError(Exception):
    """A kv call failed. ``kind``: ``"unavailable"``, ``"too-large"``,
    ``"not-a-counter"`` or ``"invalid-name"``."""

    def __init__(self, kind, detail=""):
        super().__init__(f"kv {kind}: {detail}" if detail else f"kv {kind}")
        self.kind = kind


_KINDS = {
    wit.KvError_Unavailable: "unavailable",
    wit.KvError_TooLarge: "too-large",
    wit.KvError_NotACounter: "not-a-counter",
    wit.KvError_InvalidName: "invalid-name",
}


def _call(function, *args):
    try:
        return function(*args)
    except Err as failed:
        error = failed.value
        raise KvError(_KINDS.get(type(error), "unknown"), getattr(error, "value", "")) from None


def _bytes(value):
    return value.encode() if isinstance(value, str) else bytes(value)


class Store:
    """One named store of this plugin."""

    def __init__(self, raw):
        self._raw = raw

    @classmethod
    def open(cls, name):
        """Opens store ``name`` (1 to 64 of ``a-z 0-9 - _ .``)."""
        return cls(_call(wit.Store.open, name))

    def get(self, key):
        """``(value bytes, version)`` of ``key``, or ``None`` if absent or expired."""
        entry = _call(self._raw.get, key)
        return None if entry is None else (entry.value, entry.version)

    def get_value(self, key):
        """The value of ``key`` alone, or ``None``."""
        entry = _call(self._raw.get, key)
        return None if entry is None else entry.value

    def set(self, key, value, ttl_ms=None):
        """Stores ``value`` (``str`` or ``bytes``), expiring after ``ttl_ms`` if given."""
        _call(self._raw.set, key, _bytes(value), ttl_ms)

    def compare_and_set(self, key, expected, value, ttl_ms=None):
        """Stores ``value`` only if ``key`` is still at version ``expected``
        (``None``: only if absent); returns whether it wrote."""
        return _call(self._raw.compare_and_set, key, expected, _bytes(value), ttl_ms)

    def delete(self, key):
        """Removes ``key``; returns whether it was present."""
        return _call(self._raw.delete, key)

    def increment(self, key, delta=1, ttl_ms=None):
        """Adds ``delta`` to the decimal counter ``key`` (absent counts as 0)
        and returns the new value, atomically across proxies."""
        return _call(self._raw.increment, key, delta, ttl_ms)
