"""Bounded parsing: how many MIME parts a message has, and how deeply they nest, before it is parsed.

A 500 KB message can hold thousands of tiny parts; Python's email parser builds every one
(about a quarter of a millisecond each) and storing writes a file per attachment. So a message
is measured first by `structure_scan`, a pass over its bytes that only looks at boundary lines
and the header blocks after them, and stops as soon as a limit is crossed: the cost of refusing
a part bomb is bounded by the limit, not by the bomb.

The scan reads boundaries as the email package does for ordinary messages (quoted or token
`boundary=` in the first Content-Type, delimiter lines `--boundary` and `--boundary--` with
trailing whitespace, an outer boundary closing inner parts). A message written to slip past
it (an RFC 2231 boundary, say) is still caught after the parse by `tree_scan`, which counts
the parsed tree before anything is stored.
"""

from __future__ import annotations

import re
from email.message import Message

from django.conf import settings

_HEADER_END = re.compile(rb"\r\n\r\n|\n\n|\r\r|\n\r\n")
_UNFOLD = re.compile(rb"\r?\n[ \t]+")
_CONTENT_TYPE = re.compile(rb"(?im)^content-type[ \t]*:[ \t]*([^;\s]*)([^\r\n]*)")
_BOUNDARY = re.compile(rb'(?i)(?:^|;)\s*boundary\s*=\s*(?:"((?:[^"\\\r\n]|\\.)*)"|([^;\s]+))')
# A line that may be a delimiter: two dashes at its start.
_DASH_LINE = re.compile(rb"^--([^\r\n]*)", re.M)


def _content_type(block: bytes) -> tuple[bytes, bytes | None]:
    """(lower-cased type, boundary or None) of a header block."""
    match = _CONTENT_TYPE.search(_UNFOLD.sub(b" ", block))
    if match is None:
        return b"text/plain", None
    kind = match.group(1).lower()
    found = _BOUNDARY.search(match.group(2))
    if found is None:
        return kind, None
    boundary = (found.group(1) if found.group(1) is not None else found.group(2)).rstrip()
    return kind, boundary or None


def _header_block(raw: bytes, start: int) -> tuple[bytes, int]:
    """The header block starting at `start` and where its body starts."""
    if raw[start : start + 1] in (b"\r", b"\n"):
        return b"", start + (2 if raw[start : start + 2] == b"\r\n" else 1)
    match = _HEADER_END.search(raw, start)
    if match is None:
        return raw[start:], len(raw)
    return raw[start : match.start()], match.end()


def limits_reason(parts: int, depth: int, *, max_parts: int, max_depth: int) -> str:
    if parts > max_parts:
        return f"Too many MIME parts: more than {max_parts} (limit {max_parts})"
    if depth > max_depth:
        return f"MIME parts nested too deeply: more than {max_depth} levels (limit {max_depth})"
    return ""


def structure_scan(raw: bytes, *, max_parts: int | None = None, max_depth: int | None = None) -> str:
    """Why the message's structure is over the limits (INBOUND_MAX_MIME_PARTS,
    INBOUND_MAX_MIME_DEPTH), or '' when it is within them."""
    max_parts = settings.INBOUND_MAX_MIME_PARTS if max_parts is None else max_parts
    max_depth = settings.INBOUND_MAX_MIME_DEPTH if max_depth is None else max_depth
    # Open containers, innermost last: the boundary of a multipart, None for a message/* part
    # (closed by its enclosing boundary).
    stack: list[bytes | None] = []
    parts = 0
    resume = 0  # delimiter lines before this offset are inside a header block already read

    def entity(start: int) -> tuple[int, str]:
        """Read the entity whose headers start at `start` (and a message/* part's inner
        message); returns where its body starts and a reason when a limit is crossed."""
        nonlocal parts
        position = start
        while True:
            parts += 1
            block, body = _header_block(raw, position)
            kind, boundary = _content_type(block)
            if kind.startswith(b"multipart/") and boundary:
                stack.append(boundary)
            elif kind in (b"message/rfc822", b"message/global"):
                stack.append(None)
            else:
                return body, limits_reason(parts, len(stack), max_parts=max_parts, max_depth=max_depth)
            reason = limits_reason(parts, len(stack), max_parts=max_parts, max_depth=max_depth)
            if reason or stack[-1] is not None:
                return body, reason
            position = body  # the inner message's headers follow at once

    resume, reason = entity(0)
    if reason:
        return reason
    for line in _DASH_LINE.finditer(raw, resume):
        if not any(stack):
            break  # no multipart open: no delimiter can follow
        if line.start() < resume:
            continue
        text = line.group(1).rstrip(b" \t\r")
        closing = False
        index = _innermost(stack, text)
        if index is None and text.endswith(b"--"):
            index = _innermost(stack, text[:-2])
            closing = index is not None
        if index is None:
            continue
        del stack[index + 1 :]  # an outer delimiter ends every part opened inside it
        if closing:
            stack.pop()  # what follows is its epilogue, up to a delimiter of an enclosing multipart
            continue
        resume, reason = entity(line.end() + _line_break(raw, line.end()))
        if reason:
            return reason
    return ""


def _innermost(stack: list[bytes | None], boundary: bytes) -> int | None:
    for index in range(len(stack) - 1, -1, -1):
        if stack[index] == boundary:
            return index
    return None


def _line_break(raw: bytes, end: int) -> int:
    if raw[end : end + 2] == b"\r\n":
        return 2
    return 1 if raw[end : end + 1] in (b"\n", b"\r") else 0


def tree_scan(message: Message, *, max_parts: int | None = None, max_depth: int | None = None) -> str:
    """The same limits on a parsed message (the check after the parse, before storing)."""
    max_parts = settings.INBOUND_MAX_MIME_PARTS if max_parts is None else max_parts
    max_depth = settings.INBOUND_MAX_MIME_DEPTH if max_depth is None else max_depth
    parts = 0
    pending: list[tuple[Message, int]] = [(message, 0)]
    while pending:
        part, depth = pending.pop()
        parts += 1
        reason = limits_reason(parts, depth, max_parts=max_parts, max_depth=max_depth)
        if reason:
            return reason
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            pending.extend((child, depth + 1) for child in payload if isinstance(child, Message))
    return ""
