"""Log lines, into the proxy's log with the plugin's name and the request
id (control characters are escaped; at most 4 KiB a line)."""

from wit_world.imports import log as wit


def trace(message):
    """Logs ``message`` at trace level."""
    wit.log(wit.Level.TRACE, message)


def debug(message):
    """Logs ``message`` at debug level."""
    wit.log(wit.Level.DEBUG, message)


def info(message):
    """Logs ``message`` at info level."""
    wit.log(wit.Level.INFO, message)


def warn(message):
    """Logs ``message`` at warn level."""
    wit.log(wit.Level.WARN, message)


def error(message):
    """Logs ``message`` at error level."""
    wit.log(wit.Level.ERROR, message)
