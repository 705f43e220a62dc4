"""What hooks answer: ``None`` to go on, a :class:`Reply` to answer the
client, ``bytes`` to replace a body, :data:`HOLD` to keep a chunk back; and
the translation of those into the contract's variants."""

from wit_world.imports import types as wit


class Reply:
    """A response the plugin sends instead of going upstream (or instead of
    the upstream's response)."""

    def __init__(self, status, body=b"", headers=None):
        if not 100 <= status <= 999:
            raise ValueError(f"a reply's status must be 100 to 999, got {status}")
        self.status = status
        self.body = body.encode() if isinstance(body, str) else bytes(body)
        self.headers = list(headers or [])

    @classmethod
    def text(cls, status, text):
        """A ``text/plain; charset=utf-8`` reply."""
        return cls(status, text, [("content-type", "text/plain; charset=utf-8")])

    def header(self, name, value):
        """Adds a header field; returns the reply, for chaining."""
        self.headers.append((name, value))
        return self

    def to_wit(self):
        fields = [wit.Field(n, v.encode() if isinstance(v, str) else v) for n, v in self.headers]
        return wit.ResponseInit(self.status, fields, self.body)


class _Hold:
    def __repr__(self):
        return "HOLD"


HOLD = _Hold()
"""A chunk hook's answer: keep this chunk back and see it again, joined with
the next one."""


def _wrong(hook, answer, allowed):
    return TypeError(f"{hook} returned {answer!r}; it may return {allowed}")


def decision(hook, answer):
    """``on_request`` / ``on_response``: ``None`` or a :class:`Reply`."""
    if answer is None:
        return wit.Decision_Continue()
    if isinstance(answer, Reply):
        return wit.Decision_Respond(answer.to_wit())
    raise _wrong(hook, answer, "None or a Reply")


def body_decision(hook, answer):
    """Whole-body hooks: ``None``, replacement ``bytes`` or a :class:`Reply`."""
    if answer is None:
        return wit.BodyDecision_Continue()
    if isinstance(answer, (bytes, bytearray)):
        return wit.BodyDecision_Replace(bytes(answer))
    if isinstance(answer, Reply):
        return wit.BodyDecision_Respond(answer.to_wit())
    raise _wrong(hook, answer, "None, bytes or a Reply")


def chunk_decision(hook, answer):
    """Chunk hooks: ``None`` (pass), ``bytes``, :data:`HOLD` or a :class:`Reply`."""
    if answer is None:
        return wit.ChunkDecision_Pass()
    if answer is HOLD:
        return wit.ChunkDecision_Hold()
    if isinstance(answer, (bytes, bytearray)):
        return wit.ChunkDecision_Replace(bytes(answer))
    if isinstance(answer, Reply):
        return wit.ChunkDecision_Respond(answer.to_wit())
    raise _wrong(hook, answer, "None, bytes, HOLD or a Reply")
