"""Load a recorded scenario folder and write a time-shifted copy of it.

Scenarios are recorded at a fixed date; the copilot, Prometheus, Loki and the
fake Kubernetes API must see the incident as if it is happening *now*. So
``materialize`` moves every timestamp of every file by one whole-second delta
(see /work/shared/scenarios/FORMAT.md). A whole-second delta keeps integer
OpenMetrics timestamps integral and every RFC 3339 value in its original
precision, so all timestamp kinds move by exactly the same amount.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, TextIO

import yaml

REQUIRED_FILES = ("scenario.yaml", "metrics.om", "alerts.json", "truth.yaml")
REQUIRED_FIELDS = ("name", "end", "namespace")
# Files that make up the layout; everything else (truth.yaml!) is never copied.
_LAYOUT = ("scenario.yaml", "metrics.om", "alerts.json", "rules.yaml", "logs.jsonl", "truth.yaml")
_TIME_KEY_SUFFIXES = ("Time", "Timestamp", "At")

_RFC3339 = re.compile(
    r"^(\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$"
)
# Metric name plus optional label set (quoted values may hold spaces, braces, escapes).
_SAMPLE = re.compile(r'^([^\s{]+(?:\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?)(\s+)(\S+)(\s+)(\S+)(.*)$')
_EXEMPLAR_TS = re.compile(r"^(\s+#\s+\{.*\}\s+\S+\s+)(\S+)(\s*)$")
_LOG_TS = re.compile(r'("ts"\s*:\s*")([^"]*)(")')


@dataclass
class Scenario:
    """One scenario folder, validated; ``end`` is the recording's 'now' (UTC)."""

    path: Path
    name: str
    end: datetime
    namespace: str
    description: str


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 timestamp to an aware UTC datetime (sub-microseconds dropped)."""
    m = _RFC3339.match(value.strip())
    if not m:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    base = _civil(m.group(1))
    frac = m.group(2) or ""
    micros = int((frac[1:] + "000000")[:6]) if frac else 0
    dt = base.replace(tzinfo=_tz(m.group(3)), microsecond=micros)
    return dt.astimezone(timezone.utc)


def format_rfc3339(dt: datetime, digits: int = 0) -> str:
    """Format as UTC 'Z' with ``digits`` fractional digits (0, 3, 6 or 9)."""
    dt = dt.astimezone(timezone.utc)
    out = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        out += "." + f"{dt.microsecond:06d}{'000'}"[:digits]
    return out + "Z"


def _civil(s: str) -> datetime:
    """'YYYY-MM-DDTHH:MM:SS' to a naive datetime; far faster than strptime."""
    return datetime(int(s[0:4]), int(s[5:7]), int(s[8:10]),
                    int(s[11:13]), int(s[14:16]), int(s[17:19]))


def _tz(suffix: str) -> timezone:
    if suffix in ("Z", "z"):
        return timezone.utc
    sign = 1 if suffix[0] == "+" else -1
    return timezone(sign * timedelta(hours=int(suffix[1:3]), minutes=int(suffix[4:6])))


def _as_utc(value: Any, field: str) -> datetime:
    # yaml.safe_load turns unquoted timestamps into datetime objects already.
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or timezone.utc).astimezone(timezone.utc)
    if isinstance(value, str):
        return parse_rfc3339(value)
    raise ValueError(f"scenario.yaml: field {field!r} must be an RFC 3339 timestamp")


def page_of(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The scenario's page: alerts.json's first alert and its notification's groupLabels."""
    body = json.loads((Path(path) / "alerts.json").read_text(encoding="utf-8"))
    return body["alerts"][0], body.get("groupLabels", {})


def load_scenario(path: str | Path) -> Scenario:
    """Validate a scenario folder and read its metadata; errors name the missing piece."""
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"scenario folder not found: {root}")
    for fname in REQUIRED_FILES:
        if not (root / fname).is_file():
            raise ValueError(f"scenario {root}: missing required file {fname}")
    meta = yaml.safe_load((root / "scenario.yaml").read_text(encoding="utf-8"))
    if not isinstance(meta, dict):
        raise ValueError(f"scenario {root}: scenario.yaml must be a mapping")
    for field in REQUIRED_FIELDS:
        if meta.get(field) in (None, ""):
            raise ValueError(f"scenario {root}: scenario.yaml is missing field {field!r}")
    return Scenario(
        path=root,
        name=str(meta["name"]),
        end=_as_utc(meta["end"], "end"),
        namespace=str(meta["namespace"]),
        description=str(meta.get("description") or "").strip(),
    )


def shift_seconds(scenario: Scenario, now: datetime | None = None, end_ago: float = 0.0) -> int:
    """Whole seconds to add so the end lands at or just before ``now - end_ago``."""
    target = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return math.floor((target - scenario.end).total_seconds() - end_ago)


def shift_rfc3339(value: str, delta: int) -> str:
    """Shift one RFC 3339 string, keeping its fractional digits verbatim; output is UTC 'Z'."""
    m = _RFC3339.match(value)
    if not m:
        return value
    base = _civil(m.group(1)).replace(tzinfo=_tz(m.group(3)))
    if base.year <= 1:  # Go zero time (Alertmanager endsAt of a firing alert): not a time.
        return value
    moved = base.astimezone(timezone.utc) + timedelta(seconds=delta)
    return moved.strftime("%Y-%m-%dT%H:%M:%S") + (m.group(2) or "") + "Z"


def _shift_number(text: str, delta: int) -> str:
    """Shift an OpenMetrics timestamp (seconds) textually so precision is kept."""
    if text.isdigit():
        return str(int(text) + delta)
    whole, dot, frac = text.partition(".")
    if dot and whole.lstrip("-").isdigit() and frac.isdigit():
        return f"{int(whole) + delta}.{frac}" if int(whole) >= 0 else repr(float(text) + delta)
    return repr(float(text) + delta)


def shift_json(node: Any, delta: int) -> Any:
    """Walk decoded JSON; shift strings under keys ending in Time/Timestamp/At."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, val in node.items():
            if isinstance(val, str) and key.endswith(_TIME_KEY_SUFFIXES):
                out[key] = shift_rfc3339(val, delta)
            else:
                out[key] = shift_json(val, delta)
        return out
    if isinstance(node, list):
        return [shift_json(v, delta) for v in node]
    return node


def go_json(obj: Any) -> str:
    """Compact JSON escaped like Go's encoding/json (what Alertmanager emits)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_EPOCH_VALUED = re.compile(r"(_timestamp(_seconds)?|_time(_seconds)?|_expiry(_seconds)?|"
                           r"_not_after|_not_before|_created|_started)$")


def _shift_epoch_value(text: str, delta: int, epoch_names: dict[str, bool]) -> str:
    """Metrics whose *value* is a point in time (cert expiry, start times) move with the
    timeline too, or a replayed certificate would expire years away from "now"."""
    name = text[: min((i for i in (text.find("{"), text.find(" ")) if i >= 0), default=len(text))]
    if name not in epoch_names:
        epoch_names[name] = bool(_EPOCH_VALUED.search(name))
    if not epoch_names[name]:
        return text
    m = _SAMPLE.match(text)
    if m is None:
        return text
    try:
        value = float(m.group(3))
    except ValueError:
        return text
    if not 1e9 < value < 1e11:  # not an epoch in seconds
        return text
    return f"{m.group(1)}{m.group(2)}{_shift_number(m.group(3), delta)}{m.group(4)}{m.group(5)}{m.group(6)}"


def _shift_metrics(src: TextIO, dst: TextIO, delta: int) -> None:
    write = dst.write
    match = _SAMPLE.match
    epoch_names: dict[str, bool] = {}
    for line in src:
        if not line or line[0] == "#" or line == "\n":
            write(line)
            continue
        text = _shift_epoch_value(line.rstrip("\n"), delta, epoch_names)
        if " # " not in text:  # fast path: no exemplar, timestamp is the last token
            close = text.rfind("}")
            if len(text[close + 1:].split()) == (2 if close >= 0 else 3):
                head, _, stamp = text.rpartition(" ")
                write(f"{head} {_shift_number(stamp, delta)}\n")
                continue
        m = match(text)
        if m is None:
            raise ValueError(f"metrics.om: sample without a timestamp: {line.strip()[:120]}")
        rest = m.group(6)
        if rest:
            ex = _EXEMPLAR_TS.match(rest)
            if ex:
                rest = ex.group(1) + _shift_number(ex.group(2), delta) + ex.group(3)
        write(f"{m.group(1)}{m.group(2)}{m.group(3)}{m.group(4)}"
              f"{_shift_number(m.group(5), delta)}{rest}\n")


def _shift_logs(src: TextIO, dst: TextIO, delta: int) -> None:
    for line in src:
        if not line.strip():
            continue
        record = json.loads(line)  # validates the line; the text itself is kept
        old = record.get("ts")
        if not isinstance(old, str):
            raise ValueError(f"logs.jsonl: line without a 'ts' string: {line[:120]}")
        m = next((m for m in _LOG_TS.finditer(line) if m.group(2) == old), None)
        if m is None:  # unusual spelling (escapes): re-encode the record
            record["ts"] = shift_rfc3339(old, delta)
            dst.write(json.dumps(record, ensure_ascii=False) + "\n")
            continue
        new = shift_rfc3339(old, delta)
        dst.write(line[: m.start(2)] + new + line[m.end(2):].rstrip("\n") + "\n")


def _clear_layout(out: Path) -> None:
    for fname in _LAYOUT:
        (out / fname).unlink(missing_ok=True)
    if (out / "kube").is_dir():
        for f in (out / "kube").glob("*.json"):
            f.unlink()


def materialize(
    scenario: Scenario,
    out_dir: Path,
    *,
    now: datetime | None = None,
    end_ago: float = 0.0,
) -> Path:
    """Write a copy of ``scenario`` shifted so its end is ``now - end_ago`` (to the second).

    Streams metrics and logs line by line; truth.yaml is never copied.
    """
    delta = shift_seconds(scenario, now, end_ago)
    src, out = scenario.path, Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear_layout(out)
    for name, shifter in (("metrics.om", _shift_metrics), ("logs.jsonl", _shift_logs)):
        if (src / name).is_file():
            with open(src / name, encoding="utf-8") as fin, open(
                out / name, "w", encoding="utf-8", buffering=1 << 20
            ) as fout:
                shifter(fin, fout, delta)
    alerts = json.loads((src / "alerts.json").read_text(encoding="utf-8"))
    (out / "alerts.json").write_text(go_json(shift_json(alerts, delta)), encoding="utf-8")
    if (src / "rules.yaml").is_file():
        shutil.copyfile(src / "rules.yaml", out / "rules.yaml")
    for kfile in sorted((src / "kube").glob("*.json")) if (src / "kube").is_dir() else []:
        (out / "kube").mkdir(exist_ok=True)
        data = json.loads(kfile.read_text(encoding="utf-8"))
        (out / "kube" / kfile.name).write_text(
            json.dumps(shift_json(data, delta), indent=2) + "\n", encoding="utf-8"
        )
    _write_meta(src / "scenario.yaml", out / "scenario.yaml", scenario, delta)
    return out


def _write_meta(src: Path, dst: Path, scenario: Scenario, delta: int) -> None:
    meta = yaml.safe_load(src.read_text(encoding="utf-8"))
    new_end = scenario.end + timedelta(seconds=delta)
    meta["end"] = format_rfc3339(new_end, 6 if new_end.microsecond else 0)
    dst.write_text(yaml.safe_dump(meta, sort_keys=False, width=120), encoding="utf-8")


def iter_samples(path: Path) -> Iterator[tuple[str, float, float]]:
    """Yield (series, value, timestamp) from an OpenMetrics file; handy for checks."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            m = _SAMPLE.match(line.rstrip("\n"))
            if m:
                yield m.group(1), float(m.group(3)), float(m.group(5))
