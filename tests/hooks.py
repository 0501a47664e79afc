"""Alertmanager v4 bodies for the HA, storm and store tests: one group per name."""

from __future__ import annotations

import json

from bot.webhook import Webhook, parse_webhook


def body(group: str, alerts: list[tuple[str, str]] | None = None, *,
         alertname: str = "HaTest", severity: str = "warning") -> bytes:
    """A notification of group `group` with `alerts` as (fingerprint, status)."""
    alerts = alerts or [("f0", "firing")]
    status = "firing" if any(s == "firing" for _, s in alerts) else "resolved"
    return json.dumps({
        "version": "4", "receiver": "oncall-copilot", "status": status, "truncatedAlerts": 0,
        "groupKey": f'{{}}:{{alertname="{alertname}", group="{group}"}}',
        "externalURL": "http://127.0.0.1:9093",
        "groupLabels": {"alertname": alertname, "group": group},
        "commonLabels": {"alertname": alertname, "group": group, "severity": severity,
                         "namespace": "ha"},
        "commonAnnotations": {"summary": f"{alertname} in {group}"},
        "alerts": [{
            "status": s, "labels": {"alertname": alertname, "group": group, "pod": f"{group}-{fp}"},
            "annotations": {}, "startsAt": "2026-11-26T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z" if s == "firing" else "2026-11-26T10:05:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph", "fingerprint": f"{group}-{fp}"[:64],
        } for fp, s in alerts],
    }).encode()


def hook(group: str, alerts: list[tuple[str, str]] | None = None, **kw) -> tuple[Webhook, bytes]:
    raw = body(group, alerts, **kw)
    return parse_webhook(raw), raw


def lifecycle(group: str, n: int = 5, **kw) -> list[bytes]:
    """`n` distinct notifications of one group, as Alertmanager sends them: all alerts
    fire, then they resolve one by one. One investigation (the first), one resolve."""
    fps = [f"a{i}" for i in range(n - 1)]
    out = [body(group, [(fp, "firing") for fp in fps], **kw)]
    for k in range(1, n):
        out.append(body(group, [(fp, "resolved" if i < k else "firing")
                                for i, fp in enumerate(fps)], **kw))
    return out
