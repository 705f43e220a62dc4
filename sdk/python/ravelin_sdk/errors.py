"""The one exception the SDK raises for a refused host call."""

from componentize_py_types import Err


class RavelinError(Exception):
    """A host call refused what was asked (an invalid header name or value,
    ``want_body`` outside ``on_request``, a trailer where none is known...);
    the message says what was wrong."""


def call(function, *args):
    """Calls a generated binding, turning its ``Err`` into :class:`RavelinError`."""
    try:
        return function(*args)
    except Err as refused:
        raise RavelinError(str(refused.value)) from None
