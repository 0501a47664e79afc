"""Log evidence per workload: error spikes, new error signatures, failing dependencies.

Recent lines (last 30 min) are compared with the same workload's own earlier
lines: templates are mined over the baseline first, so a signature is "new"
only if the baseline never showed it. Error lines of the paged service that
name another workload with a connection failure point at a dependency.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import ClassVar

from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.kube_objects import images, replicaset_owners, workload_of_pod
from detectors.logsig import TemplateMiner
from detectors.registry import register
from detectors.workloads import workload_catalog

RECENT = timedelta(minutes=30)
HISTORY = timedelta(hours=3)
ERROR = re.compile(r'(?i)("level"\s*:\s*"?(error|fatal|panic|critical|5\d)\b|\blevel=(error|fatal|panic)\b'
                   r'|\b(ERROR|FATAL|CRITICAL|PANIC|SEVERE)\b|^E\d{4} |\bpanic:|Traceback|Exception\b'
                   r'|\bfailed\b|\bfailure\b)')
CONNECTION = re.compile(r"(?i)(refused|timed? ?out|timeout|unreachable|no route|reset by peer|"
                        r"unavailable|dial tcp|connection (closed|error)|could not connect|no such host|"
                        r"certificate|x509|tls)")


# software a service talks to, as named in client errors -> how its images are named
TECH = {
    "redis": re.compile(r"(?i)\bredis\b|\bMISCONF\b"),
    "postgres": re.compile(r"(?i)\bpostgres(ql)?\b|\bpq: |\bpsql\b|SQLSTATE"),
    "mysql": re.compile(r"(?i)\bmysql\b|\bmariadb\b"),
    "mongo": re.compile(r"(?i)\bmongo(db)?\b"),
    "kafka": re.compile(r"(?i)\bkafka\b"),
    "rabbitmq": re.compile(r"(?i)\brabbitmq\b|\bamqp\b"),
    "elasticsearch": re.compile(r"(?i)\belasticsearch\b|\bopensearch\b"),
    "memcached": re.compile(r"(?i)\bmemcache(d)?\b"),
    "nats": re.compile(r"(?i)\bnats\b"),
}
_IMAGE_TECH = {"redis": "redis", "postgres": "postgres", "mysql": "mysql", "mariadb": "mysql",
               "mongo": "mongo", "kafka": "kafka", "rabbitmq": "rabbitmq", "elasticsearch": "elasticsearch",
               "opensearch": "elasticsearch", "memcached": "memcached", "nats": "nats"}


async def _technologies(ctx: InvestigationContext, exclude: str) -> dict[str, Subject]:
    """Software -> the single workload of the namespace running it (from container images)."""
    pods = await ctx.kube_list("pods")
    if pods is None or not pods.ok:
        return {}
    found: dict[str, dict[str, Subject]] = defaultdict(dict)
    rss = await ctx.kube_list("replicasets")
    owners = replicaset_owners(rss.data if rss is not None and rss.ok else [])
    for pod in pods.data:
        subject = workload_of_pod(pod, owners)
        if subject.name == exclude:
            continue
        for image in images(pod):
            repo = image.rsplit("/", 1)[-1].split(":")[0].split("@")[0].lower()
            for word, tech in _IMAGE_TECH.items():
                if word in repo:
                    found[tech][subject.name] = subject
    return {tech: next(iter(ws.values())) for tech, ws in found.items() if len(ws) == 1}


def names_host(line: str, name: str) -> bool:
    """`name` used as a network address (cart:8080, cart.shop.svc, //cart, dial tcp cart),
    not as a word in a message ("checkout failed for cart 123")."""
    n = re.escape(name)
    return bool(re.search(
        rf"(?i)(?:(?://|@|\bhost\s*[=:]?\s*[\"']?|\baddr(?:ess)?[=:]\s*|\bdial tcp\s+|\bconnect(?:ing|ion)? to\s+)"
        rf"{n}(?![\w-])|(?<![\w-]){n}(?::\d+|\.[a-z0-9-]+\.svc\b|\.svc\b|\.[a-z0-9-]+:\d+))", line))


def is_error(line: str) -> bool:
    return bool(ERROR.search(line))


def _workload(labels: dict[str, str]) -> str:
    return labels.get("app") or labels.get("app_kubernetes_io_name") or labels.get("container") \
        or re.sub(r"-[a-z0-9]{5,10}(-[a-z0-9]{5})?$", "", labels.get("pod", "")) or "?"


@register
class LogSignalsDetector:
    name: ClassVar[str] = "log-signals"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        if ctx.logs is None or not ctx.namespace:
            return []
        start, split = ctx.at - HISTORY, ctx.at - RECENT
        result = await ctx.once("logs:namespace", lambda: ctx.logs.logs(
            ctx.namespace, start, ctx.at, limit=30000, direction="forward", timeout=ctx.query_timeout))
        if not result.ok:
            return []
        catalog = await workload_catalog(ctx)
        lines = sorted(result.data, key=lambda x: x.ts_ns)
        by_workload: dict[str, list] = defaultdict(list)
        for ln in lines:
            by_workload[_workload(ln.labels)].append(ln)
        out: list[Finding] = []
        for name, items in by_workload.items():
            subject = catalog.get(name) or Subject(namespace=ctx.namespace, kind="Deployment", name=name)
            old = [x for x in items if x.time < split]
            new = [x for x in items if x.time >= split]
            out += self._signatures(subject, old, new, result)
            out += self._spike(subject, old, new, result)
            if name == ctx.service or (ctx.workload and name == ctx.workload.name):
                tech = await _technologies(ctx, exclude=name)
                out += self._dependencies(ctx, name, new, catalog, tech, result)
        return out

    def _signatures(self, subject: Subject, old: list, new: list, result) -> list[Finding]:
        miner = TemplateMiner(baseline=len(old))
        for x in old:
            miner.add(x.line)
        fresh: dict[str, list] = defaultdict(list)
        for x in new:
            m = miner.add(x.line)
            if is_error(x.line) and (m.new or m.template_id in fresh):
                fresh[m.template_id].append(x)
        out = []
        for tid, hits in fresh.items():
            if len(hits) < 3:
                continue
            template = miner.template(tid) or hits[0].line
            out.append(Finding(
                detector=self.name, signal="new-log-signature", subject=subject,
                severity=Severity.WARNING, score=round(min(1.0, 0.5 + 0.02 * len(hits)), 3), window="30m",
                started=hits[0].time,
                title=(f"{subject.name}: new error signature, {len(hits)} lines since "
                       f"{hits[0].time:%H:%M} UTC, never seen in the {len(old)} lines before: {template[:200]}"),
                details=[h.line[:300] for h in hits[:3]],
                facts={"template_id": tid, "template": template, "count": len(hits),
                       "first_seen": hits[0].time.isoformat()},
                sensitive=["template"], evidence=[result],
            ))
        return out

    def _spike(self, subject: Subject, old: list, new: list, result) -> list[Finding]:
        errors_new = sum(is_error(x.line) for x in new)
        errors_old = sum(is_error(x.line) for x in old)
        baseline = errors_old * RECENT / (HISTORY - RECENT)
        if errors_new < 5 or errors_new < 3 * max(baseline, 1.0):
            return []
        share = errors_new / max(len(new), 1)
        return [Finding(
            detector=self.name, signal="log-error-spike", subject=subject,
            severity=Severity.WARNING, score=round(min(1.0, 0.4 + share), 3), window="30m",
            started=next(x.time for x in new if is_error(x.line)),
            title=f"{subject.name}: {errors_new} error lines in 30 min ({share:.0%} of its lines), "
                  f"usually about {baseline:.0f}",
            facts={"errors": errors_new, "baseline": baseline, "share": share}, evidence=[result],
        )]

    def _dependencies(self, ctx: InvestigationContext, name: str, new: list,
                      catalog: dict[str, Subject], tech: dict[str, Subject], result) -> list[Finding]:
        mentions: Counter[str] = Counter()
        samples: dict[str, str] = {}
        first: dict[str, datetime] = {}
        others = sorted((w for w in catalog if w != name and len(w) >= 3), key=len, reverse=True)
        for x in new:
            if not is_error(x.line):
                continue
            hit = next((w for w in others if names_host(x.line, w)), None) \
                if CONNECTION.search(x.line) else None
            if hit is None:  # "MISCONF Redis ...": the one workload running that software
                hit = next((tech[t].name for t, rx in TECH.items() if t in tech and rx.search(x.line)), None)
            if hit:
                mentions[hit] += 1
                samples.setdefault(hit, x.line[:300])
                first.setdefault(hit, x.time)
        subjects = {**{s.name: s for s in tech.values()}, **catalog}
        return [Finding(
            detector=self.name, signal="dependency-errors", subject=subjects[dep],
            severity=Severity.WARNING, score=round(min(1.0, 0.5 + 0.02 * n), 3), window="30m",
            started=first[dep],
            title=f"{name} logs {n} errors from its dependency {dep} in 30 min",
            details=[samples[dep]], facts={"caller": name, "count": n}, evidence=[result],
        ) for dep, n in mentions.items() if n >= 3]
