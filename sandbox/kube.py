"""Loopback stand-in for a read-only Kubernetes API server, fed by a scenario's kube/*.json.

Why: no kube-apiserver binary is reachable here, yet the product's official
`kubernetes` client must be exercised over real HTTP with the API server's real
shapes (wire-samples/kube-apiserver-1.36): lists, gets, selectors, pod logs,
events.k8s.io conversion and Status errors. Every write (and exec/attach/
portforward/proxy) is refused with a 403 and reported, so a test can prove the
product never mutates a cluster. Test/demo infrastructure only.
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

from aiohttp import web

from sandbox.loki import LogRecord, format_rfc3339_ns, parse_rfc3339_ns, read_logs_jsonl

WriteHook = Callable[[web.Request], None]
Item = dict[str, Any]
Matcher = Callable[[Item], bool]


def _table(gv: str, rows: str) -> dict[tuple[str, str], tuple[str, bool]]:
    """'plural:Kind' words; a trailing '!' marks a cluster-scoped resource."""
    out = {}
    for word in rows.split():
        plural, kind = word.rstrip("!").split(":")
        out[(gv, plural)] = (kind, not word.endswith("!"))
    return out


# (groupVersion, plural) -> (Kind, namespaced); served as empty lists when no file holds them.
KNOWN = {
    **_table("v1", "pods:Pod events:Event nodes:Node! namespaces:Namespace! services:Service "
                   "endpoints:Endpoints configmaps:ConfigMap secrets:Secret "
                   "persistentvolumeclaims:PersistentVolumeClaim "
                   "persistentvolumes:PersistentVolume! serviceaccounts:ServiceAccount "
                   "replicationcontrollers:ReplicationController resourcequotas:ResourceQuota "
                   "limitranges:LimitRange"),
    **_table("apps/v1", "deployments:Deployment replicasets:ReplicaSet statefulsets:StatefulSet "
                        "daemonsets:DaemonSet controllerrevisions:ControllerRevision"),
    **_table("batch/v1", "jobs:Job cronjobs:CronJob"),
    **_table("autoscaling/v2", "horizontalpodautoscalers:HorizontalPodAutoscaler"),
    **_table("events.k8s.io/v1", "events:Event"),
    **_table("policy/v1", "poddisruptionbudgets:PodDisruptionBudget"),
    **_table("networking.k8s.io/v1", "ingresses:Ingress networkpolicies:NetworkPolicy"),
}
FORBIDDEN_READS = {("v1", "secrets"), ("v1", "configmaps")}  # like the bot's ClusterRole
CONNECT = {"exec": "create", "attach": "create", "portforward": "create", "proxy": ""}
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete", "GET": "get"}
_FIELDS = {
    "pods": {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
             "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
             "status.nominatedNodeName"},
    "events": {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
               "involvedObject.uid", "involvedObject.apiVersion",
               "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
               "reportingComponent", "source", "type"},
    "nodes": {"spec.unschedulable"}, "namespaces": {"status.phase"},
    "replicasets": {"status.replicas"}, "jobs": {"status.successful"},
}
_EVENTS_V1_FIELDS = {"reportingController": "reportingComponent", "deprecatedSource": "source"}
# core/v1 Event field -> events.k8s.io/v1 field, in the API server's output order.
_EVENTS_V1 = (("reportingComponent", "reportingController"), ("reportingInstance", None),
              ("action", None), ("reason", None), ("involvedObject", "regarding"),
              ("related", None), ("message", "note"), ("type", None),
              ("source", "deprecatedSource"),
              ("firstTimestamp", "deprecatedFirstTimestamp"),
              ("lastTimestamp", "deprecatedLastTimestamp"), ("count", "deprecatedCount"))
VERSION = {"major": "1", "minor": "36", "gitVersion": "v1.36.2",
           "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
           "buildDate": "2026-11-01T00:00:00Z", "goVersion": "go1.25.4", "compiler": "gc",
           "platform": "linux/amd64"}
WRITES = web.AppKey("writes", list)  # rejected write/connect requests: {"method", "path"}
DENIED_READS = web.AppKey("denied_reads", list)  # refused secret/configmap reads
WRITE_ERRORS = web.AppKey("write_errors", list)  # raised by on_write; the 403 still goes out
NOT_FOUND = "the server could not find the requested resource"


class Target(NamedTuple):
    """A resource URL: /api/v1 or /apis/<g>/<v>, [namespaces/<ns>/]<plural>[/<name>[/<sub>]]."""

    gv: str
    ns: str | None
    plural: str
    name: str | None
    sub: str

    @property
    def group(self) -> str:
        return self.gv.rpartition("/")[0]

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def details(self) -> Item:
        out: Item = {"name": self.name} if self.name else {}
        if self.group:
            out["group"] = self.group
        out["kind"] = self.plural
        return out


class KubeError(Exception):
    """An API Status answer (code, reason, message, details)."""

    def __init__(self, code: int, reason: str | None, message: str,
                 details: Item | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def response(self) -> web.Response:
        return _json(status_body(self.code, self.reason, self.message, self.details), self.code)


def status_body(code: int, reason: str | None, message: str, details: Item | None = None) -> Item:
    """A metav1.Status exactly as the API server serializes it (empty fields omitted)."""
    body: Item = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": message}
    if reason:
        body["reason"] = reason
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(body).encode(),
                        content_type="application/json",
                        headers={"Cache-Control": "no-cache, private"})


def forbidden(user: str, verb: str, target: Target, resource: str) -> KubeError:
    """The RBAC 403, worded like wire-samples/bot_delete_403_body.json."""
    scope = f'in the namespace "{target.ns}"' if target.ns else "at the cluster scope"
    who = f'{target.qualified} "{target.name}"' if target.name else target.qualified
    return KubeError(403, "Forbidden", f'{who} is forbidden: User "{user}" cannot {verb} resource '
                     f'"{resource}" in API group "{target.group}" {scope}', target.details())


def to_events_v1(ev: Item) -> Item:
    """core/v1 Event -> events.k8s.io/v1 Event as the API server converts it (eventTime kept)."""
    out: Item = {"kind": "Event", "apiVersion": "events.k8s.io/v1"} if "kind" in ev else {}
    out["metadata"] = ev.get("metadata", {})
    out["eventTime"] = ev.get("eventTime")
    if ev.get("series"):
        out["series"] = {k: v for k, v in ev["series"].items()
                         if k in ("count", "lastObservedTime")}
    for src, dst in _EVENTS_V1:
        if ev.get(src) or src == "involvedObject":
            out[dst or src] = ev.get(src, {})
    return out


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses ("a in (x,y),b" -> 2 terms)."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [p.strip() for p in parts + [cur] if p.strip()]


def label_selector(text: str) -> Callable[[dict[str, str]], bool]:
    """Parse a labelSelector (=, ==, !=, in, notin, key, !key, >, <) into a predicate."""
    reqs: list[Callable[[dict[str, str]], bool]] = []
    key = r"([A-Za-z0-9][\w./-]*)"
    for term in _split_top(text):
        if m := re.fullmatch(key + r"\s+(in|notin)\s*\(([^()]*)\)", term):
            k, neg = m.group(1), m.group(2) == "notin"
            vals = {v.strip() for v in m.group(3).split(",")}
            reqs.append(lambda lb, k=k, vals=vals, neg=neg: (lb.get(k) in vals) != neg)
        elif m := re.fullmatch(r"(!?)\s*" + key, term):
            reqs.append(lambda lb, k=m.group(2), neg=m.group(1) == "!": (k in lb) != neg)
        elif m := re.fullmatch(key + r"\s*(==|=|!=)\s*([\w.-]*)", term):
            k, op, v = m.groups()
            reqs.append(lambda lb, k=k, v=v, neg=op == "!=": (lb.get(k) == v) != neg)
        elif m := re.fullmatch(key + r"\s*([<>])\s*(-?\d+)", term):
            k, gt, n = m.group(1), m.group(2) == ">", int(m.group(3))
            reqs.append(lambda lb, k=k, gt=gt, n=n: bool(re.fullmatch(r"-?\d+", lb.get(k, "x")))
                        and (int(lb[k]) > n if gt else int(lb[k]) < n))
        else:
            raise KubeError(400, "BadRequest", f"unable to parse requirement: found '{term}', "
                            "expected: in, notin, =, ==, !=, gt, lt")
    return lambda labels: all(r(labels) for r in reqs)


def _field(item: Item, path: str) -> str:
    node: Any = item
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if path == "source" and isinstance(node, dict):
        node = node.get("component")
    if isinstance(node, bool):
        return "true" if node else "false"
    return "" if node is None else str(node)


def field_selector(text: str, gv: str, plural: str) -> Matcher:
    """Parse a fieldSelector (=, ==, !=; comma-joined) over the fields the API server indexes."""
    allowed = {"metadata.name", "metadata.namespace"} | _FIELDS.get(plural, set())
    reqs: list[Matcher] = []
    for term in filter(None, (t.strip() for t in text.split(","))):
        m = re.fullmatch(r"([\w.{}/-]+)\s*(==|!=|=)\s*(.*)", term)
        if not m:
            raise KubeError(400, "BadRequest", f"invalid selector: '{text}'")
        path, op, want = m.groups()
        if gv == "events.k8s.io/v1":
            path = _EVENTS_V1_FIELDS.get(path, path.replace("regarding.", "involvedObject.", 1))
        if path not in allowed:
            raise KubeError(400, "BadRequest", f"field label not supported: {m.group(1)}")
        reqs.append(lambda it, p=path, w=want, neg=op == "!=": (_field(it, p) == w) != neg)
    return lambda item: all(r(item) for r in reqs)


class KubeData:
    """A kube/ folder's lists: (groupVersion, plural) -> (Kind, namespaced, rv, items)."""

    def __init__(self, kube_dir: Path) -> None:
        self.lists: dict[tuple[str, str], tuple[str, bool, str, list[Item]]] = {}
        for path in sorted(kube_dir.glob("*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            gv, items = doc.get("apiVersion", "v1"), doc.get("items", [])
            key = (gv, path.stem)
            kind = doc.get("kind", "List").removesuffix("List") or KNOWN.get(key, ("",))[0]
            guess = any(i.get("metadata", {}).get("namespace") for i in items)
            rv = str(doc.get("metadata", {}).get("resourceVersion", "1"))
            self.lists[key] = (kind, KNOWN.get(key, (kind, guess))[1], rv, items)
        self.rv = str(max((int(v[2]) for v in self.lists.values() if v[2].isdigit()), default=1))
        for key, (kind, namespaced) in KNOWN.items():
            self.lists.setdefault(key, (kind, namespaced, self.rv, []))
        core_events = self.lists[("v1", "events")]
        self.lists[("events.k8s.io/v1", "events")] = ("Event", True, *core_events[2:])
        if not self.lists[("v1", "namespaces")][3]:
            self.lists[("v1", "namespaces")] = ("Namespace", False, self.rv, self._namespaces())

    def _namespaces(self) -> list[Item]:
        names = {i["metadata"]["namespace"] for _, namespaced, _, items in self.lists.values()
                 if namespaced for i in items if i.get("metadata", {}).get("namespace")}
        return [{"metadata": {"name": n, "labels": {"kubernetes.io/metadata.name": n}},
                 "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
                for n in sorted(names | {"default"})]

    def find(self, target: Target) -> Item:
        _, namespaced, _, items = self.lists[(target.gv, target.plural)]
        for item in items:
            meta = item.get("metadata", {})
            if meta.get("name") == target.name and (
                    not namespaced or meta.get("namespace") == target.ns):
                return item
        raise KubeError(404, "NotFound", f'{target.qualified} "{target.name}" not found',
                        target.details())


def _token(offset: int, rv: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv) if rv.isdigit() else 0,
                      "start": str(offset)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _offset(token: str) -> int:
    try:
        return int(json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["start"])
    except (ValueError, KeyError, TypeError):
        raise KubeError(400, "BadRequest", f"continue key is not valid: {token}") from None


def _ts(value: str | None, default: int) -> int:
    return parse_rfc3339_ns(value) if value else default


def _container_window(pod: Item, container: str, previous: bool) -> tuple[int, int]:
    """[start, end] ns of the container's current (or previous) instance, from its status."""
    status = pod.get("status", {})
    statuses = status.get("containerStatuses", []) + status.get("initContainerStatuses", [])
    st = next((s for s in statuses if s.get("name") == container), {})
    where = f'container "{container}" in pod "{pod["metadata"]["name"]}"'
    last, state = st.get("lastState", {}).get("terminated"), st.get("state", {})
    if previous or ("waiting" in state and last):  # CrashLoopBackOff: kubelet serves the last run
        if not last:
            raise KubeError(400, "BadRequest", f"previous terminated {where} not found")
        return _ts(last.get("startedAt"), 0), _ts(last.get("finishedAt"), 2**63)
    current = state.get("running") or state.get("terminated")
    if not current:
        reason = state.get("waiting", {}).get("reason", "ContainerCreating")
        raise KubeError(400, "BadRequest", f"{where} is waiting to start: {reason}")
    return _ts(current.get("startedAt"), 0), _ts(current.get("finishedAt"), 2**63)


def parse_target(segs: list[str]) -> Target | None:
    if segs[:2] == ["api", "v1"]:
        gv, rest = "v1", segs[2:]
    elif len(segs) >= 3 and segs[0] == "apis":
        gv, rest = f"{segs[1]}/{segs[2]}", segs[3:]
    else:
        return None
    ns = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    if not rest:
        return None
    return Target(gv, ns, rest[0], rest[1] if len(rest) > 1 else None, "/".join(rest[2:]))


def discovery(data: KubeData, segs: list[str], host: str) -> Item | None:
    """/version, /api, /apis and /api/v1 | /apis/<g>/<v> resource lists."""
    if segs == ["version"]:
        return VERSION
    if segs == ["api"]:
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": host}]}
    if segs == ["apis"]:
        groups = []
        for gv in sorted({gv for gv, _ in data.lists if "/" in gv}):
            ver = {"groupVersion": gv, "version": gv.split("/")[1]}
            groups.append({"name": gv.split("/")[0], "versions": [ver], "preferredVersion": ver})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    gv = "v1" if segs == ["api", "v1"] else "/".join(segs[1:]) if segs[:1] == ["apis"] else ""
    resources = [{"name": p, "singularName": "", "namespaced": v[1], "kind": v[0],
                  "verbs": ["get", "list", "watch"]}
                 for (g, p), v in sorted(data.lists.items()) if g == gv]
    if not resources:
        return None
    if gv == "v1":
        resources.append({"name": "pods/log", "singularName": "", "namespaced": True,
                          "kind": "Pod", "verbs": ["get"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": resources}


def make_kube_app(kube_dir: Path, *, on_write: WriteHook | None = None,
                  token: str | None = None, user: str = "oncall-bot",
                  clock: Callable[[], float] = time.time) -> web.Application:
    """Build the app; refused writes land in app[WRITES] (and on_write), refused reads in
    app[DENIED_READS]. Pod logs come from kube_dir's sibling logs.jsonl; `clock` is 'now'."""
    data = KubeData(Path(kube_dir))
    logs_path = Path(kube_dir).parent / "logs.jsonl"
    app = web.Application()
    app[WRITES], app[DENIED_READS], app[WRITE_ERRORS] = [], [], []
    cache: dict[str, list[LogRecord]] = {}

    def reject_write(request: web.Request, target: Target | None) -> web.Response:
        app[WRITES].append({"method": request.method, "path": request.path_qs})
        if on_write is not None:
            try:
                on_write(request)
            except BaseException as exc:  # noqa: BLE001 - still answer 403; tests inspect it
                app[WRITE_ERRORS].append(exc)
        if target is None:
            return KubeError(403, "Forbidden", f'forbidden: User "{user}" cannot '
                             f'{request.method.lower()} path "{request.path}"', {}).response()
        sub = target.sub.split("/")[0]
        verb = CONNECT.get(sub) or _VERBS.get(request.method, request.method.lower())
        if verb == "delete" and not target.name:
            verb = "deletecollection"
        resource = f"{target.plural}/{sub}" if sub else target.plural
        return forbidden(user, verb, target, resource).response()

    def pod_log(request: web.Request, target: Target) -> web.Response:
        pod, q, name = data.find(target), request.query, target.name
        names = [c["name"] for c in pod.get("spec", {}).get("containers", [])]
        inits = [c["name"] for c in pod.get("spec", {}).get("initContainers", [])]
        container = q.get("container") or (names[0] if len(names) == 1 else "")
        if not container:
            raise KubeError(400, "BadRequest", f"a container name must be specified for pod "
                            f"{name}, choose one of: [{' '.join(names)}]")
        if container not in names + inits:
            raise KubeError(400, "BadRequest", f"container {container} is not valid for pod {name}")
        if "logs" not in cache and logs_path.is_file():
            cache["logs"] = read_logs_jsonl(logs_path)
        if "logs" not in cache:  # what a real API server says when the kubelet is unreachable
            host = pod.get("status", {}).get("hostIP", "127.0.0.1")
            raise KubeError(500, None, f'Get "https://{host}:10250/containerLogs/{target.ns}/'
                            f'{name}/{container}": dial tcp {host}:10250: connect: '
                            "connection refused")
        lo, hi = _container_window(pod, container, q.get("previous", "").lower() == "true")
        if q.get("sinceSeconds"):
            lo = max(lo, int((clock() - int(q["sinceSeconds"])) * 1e9))
        elif q.get("sinceTime"):
            lo = max(lo, parse_rfc3339_ns(q["sinceTime"]))
        lines = [r for r in cache["logs"] if lo <= r.ts_ns <= hi
                 and r.labels.get("namespace") == target.ns and r.labels.get("pod") == name
                 and r.labels.get("container", container) == container]
        if q.get("tailLines"):
            tail = int(q["tailLines"])
            lines = lines[-tail:] if tail > 0 else []
        stamp = q.get("timestamps", "").lower() == "true"
        raw = "".join(f"{format_rfc3339_ns(r.ts_ns)} {r.line}\n" if stamp else f"{r.line}\n"
                      for r in lines).encode()
        if q.get("limitBytes"):
            raw = raw[: int(q["limitBytes"])]
        return web.Response(body=raw, content_type="text/plain")

    def read(request: web.Request, target: Target) -> web.Response:
        key = (target.gv, target.plural)
        if key not in data.lists:
            raise KubeError(404, "NotFound", NOT_FOUND, {})
        kind, _, rv, items = data.lists[key]
        q = request.query
        if key in FORBIDDEN_READS:
            app[DENIED_READS].append({"method": request.method, "path": request.path_qs})
            verb = "get" if target.name else "watch" if q.get("watch") in ("true", "1") else "list"
            raise forbidden(user, verb, target, target.plural)
        convert = to_events_v1 if target.gv == "events.k8s.io/v1" else (lambda it: it)
        if target.name is not None:
            if target.sub == "log" and target.plural == "pods":
                return pod_log(request, target)
            if target.sub not in ("", "status"):
                raise KubeError(404, "NotFound", NOT_FOUND, {})
            item = convert(data.find(target))
            return _json(item if "kind" in item
                         else {"kind": kind, "apiVersion": target.gv, **item})
        labels = label_selector(q.get("labelSelector", ""))
        fields = field_selector(q.get("fieldSelector", ""), target.gv, target.plural)
        found = [it for it in items if fields(it)
                 and labels(it.get("metadata", {}).get("labels") or {})
                 and target.ns in (None, it.get("metadata", {}).get("namespace"))]
        offset, limit = _offset(q["continue"]) if q.get("continue") else 0, int(q.get("limit") or 0)
        page = found[offset: offset + limit] if limit > 0 else found[offset:]
        meta: Item = {"resourceVersion": rv}
        if limit > 0 and offset + limit < len(found):
            meta["continue"] = _token(offset + limit, rv)
            meta["remainingItemCount"] = len(found) - offset - limit
        return _json({"kind": f"{kind}List", "apiVersion": target.gv, "metadata": meta,
                      "items": [convert(it) for it in page]})

    async def handle(request: web.Request) -> web.StreamResponse:
        segs = [s for s in request.path.split("/") if s]
        if request.method == "GET" and segs in (["healthz"], ["livez"], ["readyz"]):
            return web.Response(text="ok", content_type="text/plain")  # public, like RBAC's default
        if token is not None and request.headers.get("Authorization", "") != f"Bearer {token}":
            return KubeError(401, "Unauthorized", "Unauthorized").response()
        target = parse_target(segs)
        connect = target is not None and target.sub.split("/")[0] in CONNECT
        if request.method not in ("GET", "HEAD") or connect:
            return reject_write(request, target)
        doc = discovery(data, segs, request.host)
        if doc is not None:
            return _json(doc)
        if target is None:
            return web.Response(status=404, text="404 page not found\n", content_type="text/plain")
        try:
            return read(request, target)
        except KubeError as err:
            return err.response()

    app.router.add_route("*", "/{tail:.*}", handle)
    return app
