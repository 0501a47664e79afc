"""Deep links a human can click to see the evidence in the source's own UI."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import quote, urlencode


def _duration(seconds: float) -> str:
    """Prometheus UI range_input wants `1h`, `30m`, `90s`..."""
    seconds = int(max(seconds, 60))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def prometheus_graph(
    base_url: str, expr: str, *, end: datetime | None = None, range_seconds: float = 3600,
    tab: int = 0,
) -> str:
    """Link to the Prometheus expression browser showing `expr` as a graph (tab 0)."""
    params = {"g0.expr": expr, "g0.tab": str(tab), "g0.range_input": _duration(range_seconds)}
    if end is not None:
        params["g0.end_input"] = end.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        params["g0.moment_input"] = params["g0.end_input"]
    return f"{base_url.rstrip('/')}/graph?{urlencode(params)}"


def grafana_explore(
    grafana_url: str, datasource_uid: str, datasource_type: str, expr: str, *,
    start: datetime, end: datetime, org_id: int = 1,
) -> str:
    """Grafana Explore (URL schemaVersion 1, one pane) running `expr` on one datasource.

    `datasource_type` is the plugin id, "prometheus" or "loki"; the range is
    absolute so the link still shows the incident after the fact.
    """
    query: dict[str, object] = {
        "refId": "A", "expr": expr, "editorMode": "code",
        "datasource": {"type": datasource_type, "uid": datasource_uid},
    }
    if datasource_type == "loki":
        query["queryType"] = "range"
    pane = {
        "datasource": datasource_uid,
        "queries": [query],
        "range": {"from": str(_ms(start)), "to": str(_ms(end))},
    }
    params = {"schemaVersion": "1", "panes": json.dumps({"oc": pane}, separators=(",", ":")),
              "orgId": str(org_id)}
    return f"{grafana_url.rstrip('/')}/explore?{urlencode(params, quote_via=quote)}"


def alertmanager_silence(alertmanager_url: str, labels: dict[str, str]) -> str:
    """Alertmanager's new-silence form with one equality matcher per label.

    Labels that differ between firings of the same problem (instance ids,
    timestamps) should be dropped by the caller; all others narrow the silence.
    """
    matchers = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()) if v != "")
    fragment = "/silences/new?" + urlencode({"filter": "{" + matchers + "}"}, quote_via=quote)
    return f"{alertmanager_url.rstrip('/')}/#{fragment}"


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
