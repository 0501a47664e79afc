"""Alertmanager webhook payload (version 4), validated strictly enough to trust.

Unknown extra fields are tolerated (newer Alertmanagers add some); a missing or
mistyped known field is rejected with its path so the sender can fix it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from reasoning.page import Page, PageAlert


class WebhookAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime
    endsAt: AwareDatetime
    generatorURL: str = ""
    fingerprint: str = Field(min_length=1, max_length=64)


class Webhook(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    groupKey: str = Field(min_length=1)
    truncatedAlerts: int = Field(0, ge=0)
    status: Literal["firing", "resolved"]
    receiver: str
    groupLabels: dict[str, str]
    commonLabels: dict[str, str]
    commonAnnotations: dict[str, str]
    externalURL: str
    alerts: list[WebhookAlert] = Field(min_length=1)

    def digest(self) -> str:
        """Identity of what this notification says: HA duplicates share it."""
        facts = [self.groupKey, self.status] + sorted(
            f"{a.fingerprint}|{a.status}|{a.startsAt.isoformat()}|{a.endsAt.isoformat()}"
            for a in self.alerts
        )
        return hashlib.sha256("\n".join(facts).encode()).hexdigest()

    def to_page(self) -> Page:
        return Page(
            group_key=self.groupKey,
            status=self.status,
            common_labels=self.commonLabels,
            common_annotations=self.commonAnnotations,
            alerts=[
                PageAlert(fingerprint=a.fingerprint, status=a.status, labels=a.labels,
                          annotations=a.annotations, starts_at=a.startsAt,
                          ends_at=None if a.endsAt.year <= 1 else a.endsAt)
                for a in self.alerts
            ],
        )


class BadWebhook(ValueError):
    """The body is not a usable Alertmanager v4 webhook; the message says why."""


def _clean(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate from a "\ud800" escape
        text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def _storable(data: dict) -> dict:
    """Replace what no database column can hold (NUL, unpaired surrogates) with U+FFFD.

    Done on the way in and again when the worker re-reads the stored body, so
    a page with a stray control character is kept, not refused or dead-lettered.
    """
    stack: list[dict | list] = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in list(node):
                value = node.pop(key) if isinstance(key, str) and _clean(key) != key else node[key]
                node[_clean(key)] = _clean(value) if isinstance(value, str) else value
                if isinstance(value, (dict, list)):
                    stack.append(value)
        else:
            for i, value in enumerate(node):
                if isinstance(value, str):
                    node[i] = _clean(value)
                elif isinstance(value, (dict, list)):
                    stack.append(value)
    return data


# Only these JSON escapes can put a NUL or an unpaired surrogate into a decoded
# string (strict JSON has no raw control characters, and UTF-8 has no surrogates),
# so a body without them skips the walk: it is on every acknowledgement's path.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def parse_webhook(body: bytes) -> Webhook:
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadWebhook("body is not valid JSON: not UTF-8") from None
    except RecursionError:
        raise BadWebhook("body is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        raise BadWebhook(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadWebhook("body must be a JSON object")
    if _UNSTORABLE_ESCAPE.search(body):
        data = _storable(data)
    try:
        return Webhook.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err["loc"]) or "body"
            problems.append(f"{where}: {err['msg']}")
        raise BadWebhook("invalid Alertmanager webhook: " + "; ".join(problems)) from None
