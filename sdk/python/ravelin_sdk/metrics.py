"""Metrics on the proxy's ``/metrics`` as ``ravelin_plugin_guest_*``,
labelled ``{plugin, name, ...labels}``. Labels are a ``dict`` of at most 4
names to values; a plugin has at most 1024 series (past that new series are
dropped)."""

from wit_world.imports import metrics as wit


def _labels(labels):
    return [(str(k), str(v)) for k, v in (labels or {}).items()]


def counter_add(name, value=1, labels=None):
    """Adds ``value`` to counter ``name``."""
    wit.counter_add(name, _labels(labels), value)


def gauge_set(name, value, labels=None):
    """Sets gauge ``name`` to ``value``."""
    wit.gauge_set(name, _labels(labels), float(value))


def histogram_observe(name, value, labels=None):
    """Records ``value`` in histogram ``name``."""
    wit.histogram_observe(name, _labels(labels), float(value))
