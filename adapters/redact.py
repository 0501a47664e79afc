"""One redactor for everything that leaves the process: chat, LLM prompts, our own logs.

Logs and events routinely carry credentials (a connection string in a stack
trace, a bearer token in a debug dump). Each pattern replaces only the secret
itself with a `[REDACTED:kind]` marker, so the rest of the line, which is the
evidence, stays readable. E-mail addresses and IPs are personal or internal
rather than secret, so masking them is a setting.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable

_KEY_WORDS = (r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key"
              r"|private[_-]?key|client[_-]?secret|credentials?|auth[_-]?token|session[_-]?id"
              r"|x-api-key|signature")
_SAFE_VALUES = {"", "null", "none", "nil", "true", "false", "***", "<redacted>", "undefined"}


@dataclass(frozen=True)
class Rule:
    """A named pattern; `keep` is the regex group kept in front of the marker."""

    kind: str
    pattern: re.Pattern[str]
    keep: int | None = None


def _r(kind: str, pattern: str, keep: int | None = None, flags: int = 0) -> Rule:
    return Rule(kind, re.compile(pattern, flags), keep)


SECRET_RULES: tuple[Rule, ...] = (
    _r("private-key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
       r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*)", flags=re.S),
    _r("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    _r("auth", r"(\b(?:Bearer|Basic|Token|Bot)\s+)(?!\[REDACTED)[A-Za-z0-9._~+/=-]{8,}", 1),
    _r("url-password", r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(?=@)", 1, re.I),
    _r("aws-key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
    _r("gcp-key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    _r("gcp-token", r"\bya29\.[0-9A-Za-z_.-]{20,}"),
    _r("slack-token", r"\bxox[abposr]-[0-9A-Za-z-]{10,}|\bxapp-\d-[0-9A-Za-z-]{10,}"),
    _r("slack-webhook", r"(https://hooks\.slack\.com/services/)[A-Za-z0-9/_-]+", 1),
    _r("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    # key=value, key: value, "key": "value" (JSON), ?key=value& (query strings)
    _r("secret", r"""((?:^|(?<=[\s,;{(&?"']))["']?[\w.-]*(?:""" + _KEY_WORDS + r""")[\w.-]*["']?"""
       r"""\s*[:=]\s*)("[^"]*"|'[^']*'|(?!\[REDACTED)[^\s,;&"'}\])]+)""", 1, re.I),
)
EMAIL = _r("email", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
IPV4 = _r("ip", r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)"
          r"(?![\d.]*\d)")
_V6 = r"(?<![\w:])(?=[0-9a-f:]*\d)"  # a digit somewhere: "a::b" (C++, Rust paths) is no IP
IPV6 = _r("ip", _V6 + r"(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![\w:])"
          r"|" + _V6 + r"(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?(?![\w:])"
          r"|" + _V6 + r"::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)(?![\w:])", flags=re.I)


def marker(kind: str) -> str:
    return f"[REDACTED:{kind}]"


class Redactor:
    """Masks secrets (always) and e-mails/IPs (if enabled) in text and nested data."""

    def __init__(self, *, emails: bool = True, ips: bool = True,
                 extra: tuple[Rule, ...] = ()) -> None:
        self.rules = SECRET_RULES + extra + ((EMAIL,) if emails else ()) \
            + ((IPV4, IPV6) if ips else ())

    def redact(self, text: str) -> str:
        for rule in self.rules:
            text = rule.pattern.sub(_replacer(rule), text)
        return text

    def redact_obj(self, obj: Any) -> Any:
        """The same structure with every string redacted (dict keys kept)."""
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, dict):
            return {k: self.redact_obj(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return type(obj)(self.redact_obj(v) for v in obj)
        return obj


def _replacer(rule: Rule) -> Callable[[re.Match[str]], str]:
    def replace(m: re.Match[str]) -> str:
        if rule.keep is None:
            return marker(rule.kind)
        value = m.group(rule.keep + 1) if m.lastindex and m.lastindex > rule.keep else ""
        if rule.kind == "secret" and value.strip("\"'").lower() in _SAFE_VALUES:
            return m.group(0)
        quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] else ""
        return m.group(rule.keep) + quote + marker(rule.kind) + quote
    return replace


class RedactingFilter(logging.Filter):
    """Applies a Redactor to every record, so the bot's own logs never carry secrets."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redactor.redact(record.getMessage()), None
        return True
