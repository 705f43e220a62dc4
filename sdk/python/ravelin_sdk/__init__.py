"""Write Ravelin proxy plugins in Python, against ``ravelin:plugin@0.2.0``.

A plugin is a subclass of :class:`Plugin`; ``WitWorld = export(MyPlugin)``
at the bottom of the app module makes it the component's hooks, and
``componentize-py`` (see ``plugins/ab-router-py/build.sh``) turns the module
into the WebAssembly component the proxy loads.

==============================  ==============================================
name                            what it is
==============================  ==============================================
``Plugin``, ``export``          the hooks (no-op defaults) and the glue
``Config``                      the plugin's configuration, typed by a dataclass
``Request``, ``Response``       the borrowed request and response
``Reply``, ``HOLD``             what hooks answer besides ``None`` (go on)
``whole``, ``chunked``          asking for a body
``log``, ``kv``, ``outbound``,  the host API
``metrics``, ``host``
``RavelinError``                a host call refused (bad header, no body...)
==============================  ==============================================

Hook return values: ``None`` goes on; a :class:`Reply` answers the client
instead; a body hook may return ``bytes`` to replace the body; a chunk hook
may also return :data:`HOLD`. An exception raised by a hook is logged with
its traceback and traps the instance: the plugin's failure policy decides
what the client sees.
"""

from .config import Config, ConfigError
from .decision import HOLD, Reply
from .errors import RavelinError
from .http import Request, Response, chunked, whole
from .plugin import Hooks, Plugin, export
from . import host, kv, log, metrics, outbound

__all__ = [
    "Config",
    "ConfigError",
    "HOLD",
    "Hooks",
    "Plugin",
    "RavelinError",
    "Reply",
    "Request",
    "Response",
    "chunked",
    "export",
    "host",
    "kv",
    "log",
    "metrics",
    "outbound",
    "whole",
]
