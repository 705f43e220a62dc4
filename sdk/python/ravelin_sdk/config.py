"""The plugin's configuration: the ``config`` table of its
``[plugins.NAME]`` section, handed to ``configure`` as JSON, read into a
dataclass so a typo or a wrong type refuses the plugin with a message that
names the key."""

import dataclasses
import json
import typing


class ConfigError(ValueError):
    """The configuration does not fit the plugin's settings class."""


class Config:
    """The configuration as JSON (``"null"`` when none was given)."""

    def __init__(self, text):
        self.json = text

    def is_null(self):
        """Whether the proxy's config gave no ``config`` for the plugin."""
        return self.json.strip() == "null"

    def value(self):
        """The configuration as plain Python values (``None`` when absent)."""
        try:
            return json.loads(self.json)
        except ValueError as e:
            raise ConfigError(f"invalid plugin config: {e}") from None

    def parse(self, settings):
        """The configuration as an instance of the dataclass ``settings``:
        unknown keys, missing keys without a default and values of the wrong
        type are refused (``int``, ``float``, ``str``, ``bool``, ``list``,
        ``dict`` and ``Optional[...]`` of them are checked). No config at all
        counts as ``{}``."""
        value = self.value()
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ConfigError(f"invalid plugin config: expected a table, got {_kind(value)}")
        fields = {f.name: f for f in dataclasses.fields(settings)}
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise ConfigError(
                f"invalid plugin config: unknown key `{unknown[0]}` (expected one of: {', '.join(fields)})"
            )
        hints = typing.get_type_hints(settings)
        for name, given in value.items():
            _check(name, given, hints[name])
        missing = [n for n, f in fields.items() if n not in value and _required(f)]
        if missing:
            raise ConfigError(f"invalid plugin config: missing key `{missing[0]}`")
        return settings(**value)


def _required(field):
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _kind(value):
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else "null"
    )


def _check(name, value, hint):
    """Raises :class:`ConfigError` unless ``value`` fits the type ``hint``."""
    origin = typing.get_origin(hint)
    if origin is typing.Union:
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return
        hint = next(t for t in options if t is not type(None))
        origin = typing.get_origin(hint)
    expected = origin or hint
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return
    if expected is int and isinstance(value, bool):
        ok = False
    else:
        ok = isinstance(value, expected) if isinstance(expected, type) else True
    if not ok:
        wanted = getattr(expected, "__name__", str(expected))
        raise ConfigError(f"invalid plugin config: `{name}` must be {wanted}, got {_kind(value)}")
