"""A small LogQL subset (parser + evaluator) for the loopback Loki stand-in.

Why: the product's Loki client must be exercised against real LogQL semantics
(anchored regex matchers, chained line filters, `[range]` windows that are
left-open/right-closed, step-aligned points) without a Loki binary. Anything
outside the subset is a 400 parse error rather than a silently wrong answer.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, NoReturn, Union

RANGE_FUNCS = ("count_over_time", "rate", "bytes_over_time", "bytes_rate")
AGG_OPS = ("sum", "count", "max", "min", "avg")
EMPTY_MATCHER_MSG = (
    "parse error : queries require at least one regexp or equality matcher that does not have an "
    'empty-compatible value. For instance, app=~".*" does not meet this requirement, '
    'but app=~".+" will'
)
_DUR_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600,
              "d": 86400, "w": 604800, "y": 31536000}
_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)"""
    r"""|(?P<dur>(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y))+)(?![\w])"""
    r"""|(?P<num>\d+(?:\.\d+)?)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"""
    r"""|(?P<op>\|=|\|~|!=|!~|=~|==|>=|<=|[{}()\[\],=|<>])"""
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class LogQLError(ValueError):
    """A query Loki would reject; str(err) is the exact 400 body."""


def parse_duration(text: str) -> float:
    """Prometheus-style duration ("5m", "1h30m", "250ms") to seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)", text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise ValueError(f"not a valid duration string: {text!r}")
    return sum(float(n) * _DUR_UNITS[u] for n, u in parts)


@dataclass
class Matcher:
    """One label matcher; regexes are fully anchored like Prometheus."""

    name: str
    op: str
    value: str
    rx: re.Pattern[str] | None = None

    def matches(self, v: str) -> bool:
        if self.op in ("=", "=="):
            return v == self.value
        if self.op == "!=":
            return v != self.value
        hit = self.rx is not None and self.rx.fullmatch(v) is not None
        return hit if self.op == "=~" else not hit


@dataclass
class Stage:
    """A pipeline stage: line filter, parser, label filter or line_format."""

    kind: str  # line | json | logfmt | label | line_format
    op: str = ""
    value: str = ""
    name: str = ""
    rx: re.Pattern[str] | None = None


@dataclass
class LogExpr:
    matchers: list[Matcher]
    stages: list[Stage] = field(default_factory=list)


@dataclass
class RangeExpr:
    func: str
    log: LogExpr
    range_s: float


@dataclass
class AggExpr:
    op: str
    inner: "MetricExpr"
    labels: tuple[str, ...] = ()
    without: bool = False
    grouped: bool = False


MetricExpr = Union[RangeExpr, AggExpr]
Expr = Union[LogExpr, RangeExpr, AggExpr]


class _Parser:
    """Recursive-descent parser; error positions mimic Loki's `line 0, col N`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                self._fail(pos, f"syntax error: unexpected {text[pos]!r}")
            if m.lastgroup != "ws":
                self.toks.append((m.lastgroup or "", m.group(), pos))
            pos = m.end()
        self.toks.append(("eof", "", len(text)))
        self.i = 0

    def _fail(self, pos: int, msg: str) -> NoReturn:
        line = self.text.count("\n", 0, pos)
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        raise LogQLError(f"parse error at line {line}, col {col}: {msg}")

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def unexpected(self, expecting: str) -> NoReturn:
        kind, val, pos = self.peek()
        shown = {"eof": "$end", "str": "STRING", "ident": "IDENTIFIER", "num": "NUMBER",
                 "dur": "DURATION"}.get(kind, val)
        self._fail(pos, f"syntax error: unexpected {shown}, expecting {expecting}")

    def expect(self, value: str, expecting: str | None = None) -> None:
        if self.peek()[1] != value or self.peek()[0] != "op":
            self.unexpected(expecting or value)
        self.take()

    def string(self) -> str:
        kind, val, _ = self.peek()
        if kind != "str":
            self.unexpected("STRING")
        self.take()
        if val[0] == "`":
            return val[1:-1]
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), val[1:-1])

    def regex(self, pattern: str, pos: int) -> re.Pattern[str]:
        try:
            return re.compile(pattern, re.DOTALL)
        except re.error as exc:
            self._fail(pos, f"error parsing regexp: {exc}: `{pattern}`")

    # grammar -----------------------------------------------------------
    def parse(self) -> Expr:
        expr = self.expr()
        if self.peek()[0] != "eof":
            self.unexpected("$end")
        return expr

    def expr(self) -> Expr:
        kind, val, _ = self.peek()
        if kind == "ident" and val in AGG_OPS:
            return self.agg()
        if kind == "ident" and val in RANGE_FUNCS:
            return self.range_expr()
        if val == "{":
            return self.log_expr()
        self.unexpected("{ or aggregation")

    def metric(self) -> MetricExpr:
        expr = self.expr()
        if isinstance(expr, LogExpr):
            self.unexpected("[")  # a log query inside an aggregation needs a range
        return expr  # type: ignore[return-value]

    def grouping(self) -> tuple[bool, tuple[str, ...]]:
        without = self.take()[1] == "without"
        self.expect("(")
        names: list[str] = []
        while self.peek()[1] != ")":
            if names:
                self.expect(",", ", or )")
            kind, val, _ = self.take()
            if kind != "ident":
                self.i -= 1
                self.unexpected("IDENTIFIER")
            names.append(val)
        self.take()
        return without, tuple(names)

    def agg(self) -> AggExpr:
        op = self.take()[1]
        node = AggExpr(op=op, inner=None)  # type: ignore[arg-type]
        if self.peek()[1] in ("by", "without"):
            node.without, node.labels = self.grouping()
            node.grouped = True
        self.expect("(")
        node.inner = self.metric()
        self.expect(")")
        if self.peek()[1] in ("by", "without") and not node.grouped:
            node.without, node.labels = self.grouping()
            node.grouped = True
        return node

    def range_expr(self) -> RangeExpr:
        func = self.take()[1]
        self.expect("(")
        log = self.selector()
        range_s = None
        if self.peek()[1] == "[":
            range_s = self.range_window()
        log.stages = self.stages()
        if range_s is None:
            if self.peek()[1] != "[":
                self.unexpected("[")
            range_s = self.range_window()
        self.expect(")")
        return RangeExpr(func=func, log=log, range_s=range_s)

    def range_window(self) -> float:
        self.take()
        kind, val, _ = self.peek()
        if kind != "dur":
            self.unexpected("DURATION")
        self.take()
        self.expect("]")
        return parse_duration(val)

    def log_expr(self) -> LogExpr:
        log = self.selector()
        log.stages = self.stages()
        return log

    def selector(self) -> LogExpr:
        self.expect("{")
        matchers: list[Matcher] = []
        while True:
            kind, name, _ = self.peek()
            if kind != "ident":
                self.unexpected("IDENTIFIER")
            self.take()
            op = self.peek()[1]
            if op not in ("=", "!=", "=~", "!~"):
                self.unexpected("=, !=, =~ or !~")
            self.take()
            pos = self.peek()[2]
            value = self.string()
            rx = self.regex(value, pos) if op in ("=~", "!~") else None
            matchers.append(Matcher(name, op, value, rx))
            if self.peek()[1] == ",":
                self.take()
                continue
            if self.peek()[1] != "}":
                self.unexpected("} or ,")
            self.take()
            break
        if not any(m.op in ("=", "=~") and not m.matches("") for m in matchers):
            raise LogQLError(EMPTY_MATCHER_MSG)
        return LogExpr(matchers)

    def stages(self) -> list[Stage]:
        out: list[Stage] = []
        while True:
            kind, val, pos = self.peek()
            if kind == "op" and val in ("|=", "|~", "!=", "!~"):
                self.take()
                spos = self.peek()[2]
                value = self.string()
                rx = self.regex(value, spos) if val in ("|~", "!~") else None
                out.append(Stage("line", val, value, rx=rx))
            elif kind == "op" and val == "|":
                self.take()
                out.append(self.pipe_stage())
            else:
                return out

    def pipe_stage(self) -> Stage:
        kind, val, _ = self.peek()
        if kind != "ident":
            self.unexpected("parser, label filter or line_format")
        self.take()
        if val in ("json", "logfmt"):
            return Stage(val)
        if val == "line_format":
            return Stage("line_format", value=self.string())
        op = self.peek()[1]
        if op not in ("=", "==", "!=", "=~", "!~", ">", ">=", "<", "<="):
            self.unexpected("label filter operator")
        self.take()
        vkind, raw, vpos = self.peek()
        if vkind in ("num", "dur") and op not in ("=~", "!~"):
            self.take()
            value = raw
        else:
            value = self.string()
        rx = self.regex(value, vpos) if op in ("=~", "!~") else None
        return Stage("label", op, value, name=val, rx=rx)


def parse(query: str) -> Expr:
    """Parse LogQL or raise LogQLError carrying Loki's 400 message."""
    return _Parser(query.strip()).parse()


# evaluation -------------------------------------------------------------
Labels = dict[str, str]
Entry = tuple[int, Labels, str]  # (unix ns, labels, line)


def selector_matches(log: LogExpr, labels: Labels) -> bool:
    return all(m.matches(labels.get(m.name, "")) for m in log.matchers)


def _sanitize(key: str) -> str:
    key = re.sub(r"[^A-Za-z0-9_]", "_", key)
    return "_" + key if key[:1].isdigit() else key


def _flatten(prefix: str, node: object, out: Labels) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _flatten(f"{prefix}_{k}" if prefix else str(k), v, out)
    elif isinstance(node, list):
        return
    elif isinstance(node, bool):
        out[_sanitize(prefix)] = "true" if node else "false"
    elif node is None:
        out[_sanitize(prefix)] = ""
    elif isinstance(node, float):
        out[_sanitize(prefix)] = format_value(node)
    else:
        out[_sanitize(prefix)] = str(node)


def _extract(labels: Labels, found: Labels) -> None:
    for k, v in found.items():
        labels[k + "_extracted" if k in labels else k] = v


def _compare(op: str, have: str, want: str, rx: re.Pattern[str] | None) -> bool:
    if op in ("=~", "!~"):
        hit = rx is not None and rx.fullmatch(have) is not None
        return hit if op == "=~" else not hit
    if op in ("=", "==", "!="):
        try:
            eq = float(have) == float(want) if op == "==" else have == want
        except ValueError:
            eq = False
        return eq if op != "!=" else not eq
    try:
        a, b = float(have), float(want)
    except ValueError:
        return False
    return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]


def run_pipeline(stages: list[Stage], labels: Labels, line: str) -> tuple[Labels, str] | None:
    """Apply stages to one entry; None when a filter drops it."""
    copied = False
    for st in stages:
        if st.kind == "line":
            if st.op == "|=":
                ok = st.value in line
            elif st.op == "!=":
                ok = st.value not in line
            else:
                ok = (st.rx is not None and st.rx.search(line) is not None) == (st.op == "|~")
            if not ok:
                return None
            continue
        if not copied:
            labels, copied = dict(labels), True
        if st.kind == "json":
            try:
                _flatten("", json.loads(line, parse_float=str, parse_int=str), found := {})
                _extract(labels, found)
            except ValueError:
                labels["__error__"] = "JSONParserErr"
        elif st.kind == "logfmt":
            pairs = re.findall(r'([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)', line)
            _extract(labels, {_sanitize(k): v[1:-1] if v.startswith('"') else v for k, v in pairs})
        elif st.kind == "label":
            if not _compare(st.op, labels.get(st.name, ""), st.value, st.rx):
                return None
        elif st.kind == "line_format":
            line = re.sub(r"\{\{\s*\.(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), st.value)
    return labels, line


def select(log: LogExpr, streams: Iterable[tuple[Labels, list[Entry]]],
           lo_ns: int, hi_ns: int, *, hi_inclusive: bool) -> list[Entry]:
    """Entries of matching streams with lo <= ts < hi (or <= hi), piped."""
    out: list[Entry] = []
    for stream_labels, entries in streams:
        if not selector_matches(log, stream_labels):
            continue
        keys = [e[0] for e in entries]
        a = bisect.bisect_left(keys, lo_ns)
        b = bisect.bisect_right(keys, hi_ns) if hi_inclusive else bisect.bisect_left(keys, hi_ns)
        for ts, labels, line in entries[a:b]:
            piped = run_pipeline(log.stages, labels, line)
            if piped is not None:
                out.append((ts, piped[0], piped[1]))
    return out


def label_key(labels: Labels) -> str:
    """Prometheus-style label string, used for grouping and result order."""
    return "{" + ", ".join(f"{k}={json.dumps(labels[k])}" for k in sorted(labels)) + "}"


Series = list[tuple[Labels, dict[int, float]]]


def evaluate(expr: MetricExpr, streams: list[tuple[Labels, list[Entry]]],
             times: list[int]) -> Series:
    """Evaluate a metric query at each eval time (unix ns); empty points omitted."""
    if isinstance(expr, AggExpr):
        return _aggregate(expr, evaluate(expr.inner, streams, times))
    rng = int(expr.range_s * 1e9)
    entries = select(expr.log, streams, times[0] - rng + 1, times[-1], hi_inclusive=True)
    groups: dict[str, tuple[Labels, list[int], list[int]]] = {}
    for ts, labels, line in sorted(entries, key=lambda e: e[0]):
        g = groups.setdefault(label_key(labels), (labels, [], [0]))
        g[1].append(ts)
        g[2].append(g[2][-1] + len(line.encode()))
    result: Series = []
    for labels, stamps, sizes in groups.values():
        points: dict[int, float] = {}
        for t in times:
            a, b = bisect.bisect_right(stamps, t - rng), bisect.bisect_right(stamps, t)
            if b > a:
                counts = expr.func in ("count_over_time", "rate")
                n = float(b - a) if counts else float(sizes[b] - sizes[a])
                points[t] = n / expr.range_s if expr.func in ("rate", "bytes_rate") else n
        if points:
            result.append((labels, points))
    return result


def _aggregate(expr: AggExpr, inner: Series) -> Series:
    groups: dict[str, tuple[Labels, dict[int, list[float]]]] = {}
    for labels, points in inner:
        if expr.without:
            key_labels = {k: v for k, v in labels.items() if k not in expr.labels}
        else:
            key_labels = {k: labels[k] for k in expr.labels if labels.get(k)}
        g = groups.setdefault(label_key(key_labels), (key_labels, {}))
        for t, v in points.items():
            g[1].setdefault(t, []).append(v)
    fn = {"sum": sum, "count": len, "max": max, "min": min, "avg": lambda xs: sum(xs) / len(xs)}
    return [(lbl, {t: float(fn[expr.op](vs)) for t, vs in pts.items()})
            for lbl, pts in groups.values()]


def format_value(v: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64), as Loki/Prometheus print sample values."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    text = repr(v)
    return format(Decimal(text), "f") if "e" in text else text
