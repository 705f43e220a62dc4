"""The :class:`Plugin` base class and :func:`export`, which turns a plugin
class into the ``WitWorld`` class componentize-py exports as the
component's hooks.

``configure`` runs once per plugin version and builds the plugin object;
the proxy snapshots the instance right after, so every instance starts with
that object already built (per-version init). Each hook is then called on
it, one exchange at a time per instance.
"""

import traceback

from componentize_py_types import Err
from wit_world.imports import types as wit

from . import decision, log
from .config import Config
from .http import Request, Response


class Hooks:
    """The hooks a plugin implements beyond ``on_request``; combine with ``|``."""

    NONE = wit.Hooks(0)
    ON_RESPONSE = wit.Hooks.ON_RESPONSE
    ON_LOG = wit.Hooks.ON_LOG


class Plugin:
    """Subclass it and override the hooks you need; list ``on_response`` /
    ``on_log`` in :attr:`hooks` or they are never called.

    ``__init__(self, config)`` receives the :class:`Config`; raise (any
    exception) to refuse the configuration: the message is shown to the
    operator.
    """

    hooks = Hooks.NONE
    """The hooks beyond ``on_request``: ``Hooks.ON_RESPONSE``, ``Hooks.ON_LOG``, both (``|``) or ``Hooks.NONE``."""

    def __init__(self, config):
        self.config = config

    def on_request(self, req):
        """Before the upstream. ``None`` goes on, a ``Reply`` answers."""
        return None

    def on_request_body(self, req, body, truncated):
        """With the request body, when ``on_request`` asked for it
        ``whole``. ``None``, replacement ``bytes`` or a ``Reply``."""
        return None

    def on_request_chunk(self, req, chunk, end):
        """For each request body chunk, when asked for ``chunked``."""
        return None

    def on_response(self, req, resp):
        """For each response, when ``hooks`` lists ``ON_RESPONSE``."""
        return None

    def on_response_body(self, req, resp, body, truncated):
        """With the response body, when ``on_response`` asked for it ``whole``."""
        return None

    def on_response_chunk(self, req, resp, chunk, end):
        """For each response body chunk, when asked for ``chunked``."""
        return None

    def on_log(self, req, info):
        """After the response was sent, when ``hooks`` lists ``ON_LOG``;
        ``info`` has ``status``, ``request_body_bytes``,
        ``response_body_bytes``, ``duration_us`` and ``completed``."""


def _trap(hook, error):
    """Logs ``error`` with its traceback, then re-raises it: the instance
    traps and the plugin's failure policy applies."""
    log.error(f"{hook} raised {type(error).__name__}: {error}\n{traceback.format_exc()}")
    raise error


def export(plugin_class):
    """The ``WitWorld`` class for ``plugin_class``: write
    ``WitWorld = export(MyPlugin)`` at the bottom of the app module."""

    state = {}

    def plugin():
        return state["plugin"]

    class WitWorld:
        def configure(self, config):
            try:
                built = plugin_class(Config(config))
            except Exception as refused:
                raise Err(f"{type(refused).__name__}: {refused}") from None
            state["plugin"] = built
            return built.hooks

        def on_request(self, req):
            try:
                return decision.decision("on_request", plugin().on_request(Request(req)))
            except Exception as e:
                _trap("on_request", e)

        def on_request_body(self, req, body, truncated):
            try:
                answer = plugin().on_request_body(Request(req), body, truncated)
                return decision.body_decision("on_request_body", answer)
            except Exception as e:
                _trap("on_request_body", e)

        def on_request_chunk(self, req, chunk, end):
            try:
                answer = plugin().on_request_chunk(Request(req), chunk, end)
                return decision.chunk_decision("on_request_chunk", answer)
            except Exception as e:
                _trap("on_request_chunk", e)

        def on_response(self, req, resp):
            try:
                answer = plugin().on_response(Request(req), Response(resp))
                return decision.decision("on_response", answer)
            except Exception as e:
                _trap("on_response", e)

        def on_response_body(self, req, resp, body, truncated):
            try:
                answer = plugin().on_response_body(Request(req), Response(resp), body, truncated)
                return decision.body_decision("on_response_body", answer)
            except Exception as e:
                _trap("on_response_body", e)

        def on_response_chunk(self, req, resp, chunk, end):
            try:
                answer = plugin().on_response_chunk(Request(req), Response(resp), chunk, end)
                return decision.chunk_decision("on_response_chunk", answer)
            except Exception as e:
                _trap("on_response_chunk", e)

        def on_log(self, req, info):
            try:
                plugin().on_log(Request(req), info)
            except Exception as e:
                _trap("on_log", e)

    WitWorld.__name__ = WitWorld.__qualname__ = "WitWorld"
    return WitWorld
