"""Proof that the copilot cannot change a cluster.

Two independent arguments: (1) statically, the only kubernetes client API
methods named anywhere in the project's source are non-mutating reads, and no
exec/attach/port-forward/watch/dynamic/raw-call machinery is imported; (2)
dynamically, every public method of the wrapper is driven against the API
stand-in, which records each request's verb and fails the test on anything but
GET. The allowlist's RBAC rules are checked against what the chart may grant.
"""

from __future__ import annotations

import ast
import inspect
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from kubernetes import client as k8s

from adapters.event_sources import EventReader
from adapters.kube import KubeClient
from adapters.kube_allowlist import READS, allowed_methods, rbac_rules
from adapters.kube_config import KubeTarget
from adapters.kube_describe import describe_pod, owner_chain
from adapters.logs import LogReader
from sandbox.kube import WRITES, make_kube_app
from tests.adapters.conftest import END, RESTARTED_POD

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["adapters", "bot", "detectors", "reasoning", "sandbox", "bench"]
READ_PREFIXES = ("read_", "list_", "get_")
FORBIDDEN_MODULES = ("kubernetes.stream", "kubernetes.watch", "kubernetes.dynamic",
                     "kubernetes.utils", "kubernetes.leaderelection")
FORBIDDEN_NAMES = {"call_api", "param_serialize", "connect_get_namespaced_pod_exec",
                   "Watch", "DynamicClient", "create_from_yaml"}


def client_api_methods() -> set[str]:
    """Every operation of every generated kubernetes API class, read from the client's
    source (importing all 66 API modules would cost seconds)."""
    api_dir = Path(k8s.__file__).parent / "api"
    names: set[str] = set()
    for path in api_dir.glob("*_api.py"):
        names.update(re.findall(r"^    def ([a-z]\w*_\w+)\(", path.read_text(), re.M))
    return names  # operation ids are verb_noun; helpers such as close() are not operations


def source_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES if (ROOT / pkg).is_dir() for p in (ROOT / pkg).rglob("*.py"))


def referenced_identifiers(path: Path) -> tuple[set[str], set[str], bool]:
    """(identifiers named as attributes/names/strings, modules imported, watch=True used)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    modules: set[str] = set()
    watch = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.update(w for w in node.value.replace(",", " ").split() if w.isidentifier())
        elif isinstance(node, ast.Import):
            modules.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.keyword) and node.arg == "watch":
            watch = watch or not (isinstance(node.value, ast.Constant) and not node.value.value)
    return names, modules, watch


def test_only_read_methods_are_referenced_anywhere():
    api_methods = client_api_methods()
    assert len(api_methods) > 500  # the scan sees the real client surface
    found: dict[str, set[str]] = {}
    for path in source_files():
        names, modules, watch = referenced_identifiers(path)
        rel = path.relative_to(ROOT).as_posix()
        assert not watch, f"{rel} passes watch=..."
        bad_modules = {m for m in modules if m.startswith(FORBIDDEN_MODULES)}
        assert not bad_modules, f"{rel} imports {bad_modules}"
        assert not (names & FORBIDDEN_NAMES), f"{rel} names {names & FORBIDDEN_NAMES}"
        for name in names & api_methods:
            found.setdefault(name, set()).add(rel)
    mutating = {n: f for n, f in found.items() if not n.startswith(READ_PREFIXES)}
    assert mutating == {}, f"mutating or connect calls referenced: {mutating}"
    sensitive = {n for n in found if "secret" in n or "config_map" in n}
    assert sensitive == set()


def test_the_scan_would_catch_a_planted_write(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("from kubernetes.stream import stream\n"
                       "def f(api):\n    api.delete_namespaced_pod('x', 'shop')\n"
                       "    getattr(api, 'patch_namespaced_deployment')\n"
                       "    api.list_namespaced_pod('shop', watch=True)\n")
    names, modules, watch = referenced_identifiers(planted)
    assert {"delete_namespaced_pod", "patch_namespaced_deployment"} <= names & client_api_methods()
    assert "kubernetes.stream" in modules and watch


def test_the_allowlist_holds_only_reads_that_exist():
    by_class: dict[type, set[str]] = {}
    for read in READS.values():
        by_class.setdefault(read.api, set()).update(
            n for n in (read.list_namespaced, read.list_all, read.read) if n)
    by_class.setdefault(k8s.CoreV1Api, set()).add("read_namespaced_pod_log")
    for cls, names in by_class.items():
        for name in names:
            assert name.startswith(("read_", "list_")) and hasattr(cls, name), name
    assert set().union(*by_class.values()) == allowed_methods()
    assert not any("secret" in n or "config_map" in n for n in allowed_methods())


def test_rbac_rules_are_get_list_and_pods_log_only():
    rules = rbac_rules()
    verbs = {v for r in rules for v in r["verbs"]}
    assert verbs == {"get", "list"}
    resources = {(g, res) for r in rules for g in r["apiGroups"] for res in r["resources"]}
    assert ("", "pods/log") in resources
    log_rule = next(r for r in rules if "pods/log" in r["resources"])
    assert log_rule["verbs"] == ["get"] and log_rule["resources"] == ["pods/log"]
    assert not {res for _, res in resources} & {"secrets", "configmaps", "pods/exec",
                                                "pods/attach", "pods/portforward"}
    for read in READS.values():
        assert (read.group, read.plural) in resources


def strip_template(text: str) -> str:
    """Helm template to plain YAML, enough to read RBAC rules: comments and directive
    lines dropped, inline expressions replaced by a word."""
    text = re.sub(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", "", text, flags=re.S)
    text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("{{"))
    return re.sub(r"\{\{.*?\}\}", "templated", text)


def test_helm_cluster_role_matches_the_allowlist():
    roles = [p for p in (ROOT / "helm").rglob("templates/*.yaml")
             if re.search(r"^kind: (Cluster)?Role$", p.read_text(), re.M)]
    if not roles:
        pytest.skip("the Helm chart's ClusterRole is not written yet")
    for path in roles:
        granted: set[tuple[str, str, str]] = set()
        for doc in yaml.safe_load_all(strip_template(path.read_text())):
            for rule in (doc or {}).get("rules") or []:
                granted |= {(g, r, v) for g in rule.get("apiGroups", []) for r in
                            rule.get("resources", []) for v in rule.get("verbs", [])}
        needed = {(g, r, v) for rule in rbac_rules() for g in rule["apiGroups"]
                  for r in rule["resources"] for v in rule["verbs"]}
        if "kind: Role" in path.read_text():  # namespaced: cluster-scoped kinds cannot be granted
            needed = {n for n in needed if n[1] != "nodes"}
        assert needed <= granted, (path.name, needed - granted)
        assert {v for *_, v in granted} <= {"get", "list", "watch"}, path.name
        assert not {r for _, r, _ in granted} & {"secrets", "configmaps", "pods/exec",
                                                 "pods/attach", "pods/portforward"}


DRIVEN = {"list", "get", "pod_logs", "close", "connect"}


async def test_every_wrapper_method_sends_only_gets(scenario, serve):
    verbs: list[tuple[str, str]] = []

    @web.middleware
    async def record(request: web.Request, handler):
        verbs.append((request.method, request.path))
        return await handler(request)

    app = make_kube_app(scenario / "kube", clock=END.timestamp)
    app.middlewares.append(record)
    url = await serve(app)
    kube = KubeClient.connect(KubeTarget(url=url), timeout=5)
    public = {n for n, _ in inspect.getmembers(KubeClient) if not n.startswith("_")}
    assert public - {"timeout"} <= DRIVEN | {"unavailable", "page_size", "max_items"}, \
        "a new wrapper method must be driven here too"
    for resource, read in READS.items():
        listed = await kube.list(resource, "shop" if read.namespaced else None)
        assert not listed.failed, (resource, listed.error)
        await kube.list(resource)  # all namespaces
        for item in (listed.data or [])[:1]:
            got = await kube.get(resource, item["metadata"]["name"],
                                 item["metadata"].get("namespace"))
            assert got.ok, (resource, got.error)
    for previous in (False, True):
        assert (await kube.pod_logs("shop", RESTARTED_POD, previous=previous, tail=3)).ok
    pod = (await kube.get("pods", RESTARTED_POD, "shop")).data
    assert (await owner_chain(kube, "shop", pod))[0]
    assert (await describe_pod(kube, "shop", RESTARTED_POD)).ok
    window = (END - timedelta(hours=6), END)
    assert (await LogReader(None, kube).logs("shop", *window, labels={"app": "checkout"})).ok
    assert (await EventReader(kube, None).events("shop", *window)).ok
    kube.close()
    assert verbs and {m for m, _ in verbs} == {"GET"}, {m for m, _ in verbs}
    assert app[WRITES] == []
