"""The clock and randomness from the host. Python's own ``random`` and
``time`` modules do not reach the host in a plugin (the component imports no
WASI): use these."""

from wit_world.imports import clock, random


def now_ms():
    """Milliseconds since the Unix epoch."""
    return clock.now_ms()


def sleep_ms(ms):
    """Pauses the hook without using CPU (at most 1000 ms a call, 5000 ms a hook)."""
    clock.sleep_ms(ms)


def random_u64():
    """A random 64-bit number from the host's secure generator."""
    return random.next_u64()


def random_bytes(n):
    """``n`` random bytes (at most 65536) from the host's secure generator."""
    return random.fill_bytes(n)
