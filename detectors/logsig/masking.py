"""Variable masking: one general rule set for every log source.

Why one rule set: the miner must work on logs nobody configured it for, so
nothing here knows a log format. A line is cut into *pieces* (runs of
characters between whitespace and the punctuation ``[](){}<>=,;:"'|``), and a
piece becomes ``<*>`` when it looks like data rather than vocabulary:

* it holds a digit: numbers, timestamps, IPs, UUIDs, hex, ids such as
  ``blk_-42`` or ``node-17``, and so the value of ``key=value`` when it does;
* it is a path or URL (two or more ``/``), or a long hexadecimal string;
* it is a month or weekday name (textual timestamps) or a log level word
  (``INFO``, ``WARN``...): header fields, not part of what a message says.

Masked pieces joined by ``: . , - /`` collapse into one ``<*>``, so
``10.0.0.1:8080`` and ``2024-01-02T03:04:05.678`` are one variable each; an
empty bracket pair ``()`` counts as an empty value ``(<*>)``. A unit after a
magnitude (``1.2 KB``, ``30 ms``) and a comparison before it (``<1 sec``) belong
to the value, and a parenthesised value after the words (``1165 bytes (1.13 KB)
sent``, logged only for large values) is dropped as an annotation, so a
humanised value does not change a line's length. Plain words (user
names, host names, ``key=word``) are left to the miner, which generalises a
position once it sees it vary: masking them here would merge messages that
differ in wording. Words in a bracketed group with spaces (``[IPC Server
handler 5]``, a thread name) are glued into one token so that a header field
of varying length does not shift the message.
"""

from __future__ import annotations

import re

WILDCARD = "<*>"
# Glues the words of a bracketed group into one token; rendered back as a space.
JOINER = "\ue000"

_P = r"""[^\s\[\](){}<>=,;:"'|]"""  # a character that belongs to a piece
_PIECE_START = rf"(?<!{_P})"
_PIECE_END = rf"(?!{_P})"
_CALENDAR = "Jan Feb Mar Apr May Jun Jul Aug Sep Sept Oct Nov Dec Mon Tue Wed Thu Fri Sat Sun"
_LEVELS = "TRACE DEBUG INFO NOTICE WARN WARNING ERROR ERR CRIT CRITICAL FATAL SEVERE ALERT EMERG"
_WORDS = "|".join((_CALENDAR + " " + _LEVELS).split())

_VARIABLE_PIECE = re.compile(
    _PIECE_START
    + "(?:"
    + r"""[A-Za-z][\w+.\-]*://[^\s\[\](){}<>"'|,;]*"""  # URLs
    + rf"|{_P}*?\d{_P}*"  # a digit anywhere in the piece
    + rf"|{_P}*?/{_P}*?/{_P}*"  # paths and URLs
    + rf"|[0-9a-fA-F]{{12,}}{_PIECE_END}"  # long hex, even without digits
    + rf"|(?:{_WORDS}){_PIECE_END}"  # calendar and level words
    + ")"
)
_EMPTY_BRACKETS = re.compile(r"\(\)|\[\]|\{\}")
_COLLAPSE = re.compile(r"<\*>(?:[:.,/\-]<\*>)+")
# A unit after a magnitude (512 B, 1.2 KB, 30 ms, <1 sec) is part of the value,
# as is a comparison in front of it: humanised values change unit with size.
_UNIT = re.compile(r"<\*> (?:[KMGTP]i?B|B|[mun\u00b5]?s|secs?|mins?)(?![^\s,;)\]])")
_COMPARED = re.compile(r"(?<!\*)[<>]=?(?=<\*>)")
# A value in parentheses after the words, present or not, empty or not ("1165 bytes
# (1.13 KB) sent" but "403 bytes sent"; "from 10.0.0.1 (host-7)" or "() at"), is an
# annotation, not a different message: it is dropped.
_ANNOTATION = re.compile(r" \(<\*>\)(?=[\s,;:.]|$)")
_SPACED_BRACKETS = re.compile(r"\[[^\[\]\s]*\s[^\[\]]*\]")


def mask(line: str) -> str:
    """Return ``line`` with its variable pieces replaced by ``<*>``."""
    masked = _VARIABLE_PIECE.sub(WILDCARD, line)
    if "()" in masked or "[]" in masked or "{}" in masked:
        masked = _EMPTY_BRACKETS.sub(_fill_brackets, masked)
    if "*>" in masked:
        masked = _COLLAPSE.sub(WILDCARD, masked)
        masked = _UNIT.sub(WILDCARD, _COMPARED.sub("", masked))
        if "(<*>)" in masked:
            masked = _ANNOTATION.sub("", masked)
    return masked


def tokenize(line: str) -> list[str]:
    """Mask ``line`` and split it into template tokens (whitespace-separated)."""
    masked = mask(line)
    if "[" in masked:
        masked = _SPACED_BRACKETS.sub(_glue_words, masked)
    return masked.split()


def render(tokens: list[str]) -> str:
    """Turn template tokens back into readable text."""
    return " ".join(tokens).replace(JOINER, " ")


def _fill_brackets(match: re.Match[str]) -> str:
    text = match.group(0)
    return text[0] + WILDCARD + text[1]


def _glue_words(match: re.Match[str]) -> str:
    return JOINER.join(match.group(0).split())
