"""Static checks of helm/oncall-copilot and deploy/*.yaml (no helm binary here).

What `helm lint` would add on top is listed in helm/oncall-copilot/README.md.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
import builtins
import shutil
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "oncall-copilot"
TEMPLATES = CHART / "templates"
DEPLOY = ROOT / "deploy"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

VALUES_REF = re.compile(r"\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
READ_VERBS = {"get", "list", "watch"}
# Settings values.yaml sets for a pod in a cluster; every other one is null there,
# which leaves the application's default.
IN_CLUSTER_DEFAULTS = {"prometheusUrl", "alertmanagerUrl", "databaseUrl", "policiesDir",
                       "clustersFile", "ownershipFile", "logFormat", "port", "runbooksIndexDir"}


def values() -> dict:
    return yaml.safe_load((CHART / "values.yaml").read_text())


def schema() -> dict:
    return json.loads((CHART / "values.schema.json").read_text())


def template_texts() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(TEMPLATES.iterdir()) if p.is_file()}


def camel(snake: str) -> str:
    first, *rest = snake.split("_")
    return first + "".join(part.capitalize() for part in rest)


def is_secret(field) -> bool:
    return SecretStr in (field.annotation, *typing.get_args(field.annotation))


def oncall_cli(*args: str) -> str:
    """`oncall ARGS...` in-process (the same Typer app as the console script)."""
    from typer.testing import CliRunner

    from bot.cli import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def kube_allowlist():
    """adapters/kube_allowlist.py, the code's Kubernetes read allowlist.

    Importing the real `kubernetes` client costs seconds; when nothing has
    loaded it yet, the module runs against a stand-in for its client classes
    (only the table's names and flags matter here), without touching sys.modules.
    """
    if "kubernetes.client" in sys.modules:
        from adapters import kube_allowlist as module

        return module
    stub = types.ModuleType("kubernetes")
    stub.client = types.SimpleNamespace(**{n: type(n, (), {}) for n in (
        "CoreV1Api", "AppsV1Api", "BatchV1Api", "EventsV1Api", "AutoscalingV2Api",
        "AutoscalingV1Api", "NetworkingV1Api", "PolicyV1Api", "StorageV1Api")})

    def _import(name, *args, **kwargs):
        return stub if name == "kubernetes" else builtins.__import__(name, *args, **kwargs)

    path = ROOT / "adapters" / "kube_allowlist.py"
    module = types.ModuleType("_kube_allowlist_static")
    module.__dict__["__builtins__"] = {**builtins.__dict__, "__import__": _import}
    sys.modules[module.__name__] = module  # dataclasses resolve annotations through it
    try:
        exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module


def promtool_check(tmp_path: Path, rule_file: dict | str) -> None:
    if not Path(PROMTOOL).exists():
        pytest.skip("promtool not installed (make system-deps)")
    path = tmp_path / "rules.yaml"
    path.write_text(rule_file if isinstance(rule_file, str) else yaml.safe_dump(rule_file))
    proc = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


# ---------------------------------------------------------------- structure --

def test_chart_yaml_has_required_keys():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == CHART.name
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{chart["appVersion"]}"' in pyproject, "appVersion != project version"


@pytest.mark.parametrize("name", [
    "_helpers.tpl", "deployment.yaml", "service.yaml", "serviceaccount.yaml",
    "clusterrole.yaml", "clusterrolebinding.yaml", "role.yaml", "rolebinding.yaml",
    "configmap-policies.yaml", "configmap-runbooks.yaml", "networkpolicy.yaml",
    "poddisruptionbudget.yaml", "servicemonitor.yaml", "prometheusrule.yaml", "NOTES.txt",
])
def test_template_exists(name):
    assert (TEMPLATES / name).is_file()


def test_readme_has_receiver_example_and_lint_note():
    readme = (CHART / "README.md").read_text()
    assert "webhook_configs" in readme and "send_resolved: true" in readme
    assert "/alertmanager" in readme and "helm lint" in readme


def test_template_actions_are_balanced():
    """A cheap stand-in for the parser: every {{ has its }} and blocks close."""
    for name, text in template_texts().items():
        assert text.count("{{") == text.count("}}"), name
        actions = re.findall(r"\{\{-?\s*(if|with|range|define|end)\b", text)
        opened = sum(1 for a in actions if a != "end")
        ends = actions.count("end")
        assert opened == ends, f"{name}: {opened} blocks, {ends} ends"


def skeleton(text: str) -> str:
    """A template with its actions flattened, to parse its static YAML shape.

    Control lines (if/with/range/end) are dropped, `... | nindent N` lines
    become one placeholder entry (a list item inside a list), and inline
    actions become `x`. Catches indentation slips in the static parts, which
    is most of what goes wrong in simple templates; helm lint does the rest.
    """
    text = re.sub(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", "", text, flags=re.S)
    out: list[str] = []
    for line in text.splitlines():
        m = re.match(r"^\s*\{\{-?.*\|\s*nindent (\d+)\s*-?\}\}$", line)
        if m:
            n = int(m.group(1))
            same = [o for o in out if o.strip() and len(o) - len(o.lstrip()) == n]
            in_list = (same and same[-1].lstrip().startswith("- ")
                       and not out[-1].rstrip().endswith(":"))
            out.append(" " * n + ("- placeholder: x" if in_list else "placeholder/key: x"))
        elif re.fullmatch(r"\{\{[^}]*\}\}", line.strip()):
            continue
        else:
            out.append(re.sub(r"\{\{.*?\}\}", "x", line))
    return "\n".join(out)


@pytest.mark.parametrize("name", sorted(p.name for p in TEMPLATES.glob("*.yaml")))
def test_template_skeleton_is_a_kubernetes_object(name):
    docs = [d for d in yaml.safe_load_all(skeleton((TEMPLATES / name).read_text())) if d]
    assert len(docs) == 1, name
    assert {"apiVersion", "kind", "metadata"} <= set(docs[0]), name
    assert "labels" in docs[0]["metadata"], f"{name}: objects carry the chart's labels"


# ------------------------------------------------------------------- values --

def test_every_values_reference_exists_in_values_and_schema():
    vals, sch = values(), schema()
    missing = []
    for name, text in template_texts().items():
        for path in sorted(set(VALUES_REF.findall(text))):
            keys = path.strip(".").split(".")
            node, snode = vals, sch
            for i, key in enumerate(keys):
                if not isinstance(node, dict) or key not in node:
                    missing.append(f"{name}: .Values{path} not in values.yaml")
                    break
                props = snode.get("properties", {})
                if key not in props:
                    missing.append(f"{name}: .Values{path} not in values.schema.json")
                    break
                node, snode = node[key], props[key]
    assert missing == []


def test_values_validate_against_schema():
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft7Validator.check_schema(schema())
    errors = [f"{list(e.path)}: {e.message}"
              for e in jsonschema.Draft7Validator(schema()).iter_errors(values())]
    assert errors == []


def _walk_patterns(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern":
                yield value
            else:
                yield from _walk_patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_patterns(item)


def test_schema_patterns_are_re2():
    """Helm validates with Go regexps: no look-around, no backreferences."""
    for pattern in _walk_patterns(schema()):
        assert not re.search(r"\(\?[=!<]|\\[1-9]", pattern), pattern


@pytest.mark.parametrize("path,value", [
    ("config.slackBotToken", "xoxb-1-2-3"),          # tokens are not values...
    ("secrets.webhookToken", "s3cret"),              # ...not even under secrets
    ("config.databaseUrl", "postgresql+psycopg://oncall:hunter2@db:5432/oncall"),
    ("image.tag", "latest"),
    ("securityContext.readOnlyRootFilesystem", False),
    ("securityContext.allowPrivilegeEscalation", True),
    ("podSecurityContext.runAsNonRoot", False),
    ("rbac.scope", "everything"),
    ("config.workerMode", "threads"),
    ("config.port", 0),
    ("nonsense", 1),
])
def test_schema_rejects(path, value):
    jsonschema = pytest.importorskip("jsonschema")
    doc = copy.deepcopy(values())
    *parents, last = path.split(".")
    node = doc
    for key in parents:
        node = node[key]
    node[last] = value
    assert list(jsonschema.Draft7Validator(schema()).iter_errors(doc)), f"{path}={value!r} accepted"


def test_no_secret_objects_and_no_secret_values():
    for name, text in template_texts().items():
        assert not re.search(r"^kind:\s*Secret\s*$", text, re.M), f"{name} creates a Secret"

    def walk(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from walk(value, f"{path}.{key}")
        elif isinstance(node, str):
            yield path, node

    for path, value in walk(values()):
        if path.startswith(".secrets."):
            continue  # Secret name and key names only
        if re.search(r"(token|password|secret)$", path, re.I):
            assert not value, f"{path} holds a value"


# ----------------------------------------------------------------- settings --

def _env_blocks(text: str) -> dict[str, str]:
    """ONCALL_* env entry -> its text with the template line guarding it."""
    lines = text.splitlines()
    blocks = {}
    for i, line in enumerate(lines):
        m = re.match(r"\s*- name: (ONCALL_[A-Z0-9_]+)\s*$", line)
        if m:
            blocks.setdefault(m.group(1), "")
            blocks[m.group(1)] += "\n".join(lines[max(0, i - 1): i + 4]) + "\n"
    return blocks


def _how_to_add(name: str, field) -> str:
    """The chart edits a new setting needs, to paste (shown when the test fails)."""
    env, key = f"ONCALL_{name.upper()}", camel(name)
    if is_secret(field):
        secret_key = name.replace("_", "-")
        return (f"\n--- {env} (secret)\nvalues.yaml secrets.keys:  {key}: {secret_key}\n"
                f"values.schema.json secrets.keys.properties:  \"{key}\": {{\"type\": \"string\", "
                f"\"minLength\": 1}}\ndeployment.yaml, in the existingSecret block:\n"
                f"            - name: {env}\n              valueFrom:\n"
                f"                secretKeyRef: "
                f"{{name: {{{{ . | quote }}}}, key: {{{{ $.Values.secrets.keys.{key} | quote }}}}, "
                f"optional: true}}\n")
    args = [a for a in typing.get_args(field.annotation) if a is not type(None)]
    base = args[0] if len(args) == 1 else field.annotation
    if base in (int, float, bool):
        kind = {int: "integer", float: "number", bool: "boolean"}[base]
        conv = " | int" if base is int else ""
        block = (f'            {{{{- if not (kindIs "invalid" .Values.config.{key}) }}}}\n'
                 f"            - name: {env}\n"
                 f"              value: {{{{ .Values.config.{key}{conv} | quote }}}}\n"
                 f"            {{{{- end }}}}\n")
    else:
        kind = "string"
        block = (f"            {{{{- with .Values.config.{key} }}}}\n            - name: {env}\n"
                 f"              value: {{{{ . | quote }}}}\n            {{{{- end }}}}\n")
    return (f"\n--- {env}\nvalues.yaml config:  # -- {env}: {field.description}\n  {key}: null\n"
            f"values.schema.json config.properties:  "
            f"\"{key}\": {{\"type\": [\"{kind}\", \"null\"]}}\n"
            f"deployment.yaml env:\n{block}")


def test_every_setting_can_be_set_from_values():
    deployment = (TEMPLATES / "deployment.yaml").read_text()
    blocks = _env_blocks(deployment)
    vals, props = values(), schema()["properties"]
    problems = []
    for name, field in Settings.model_fields.items():
        env, key = f"ONCALL_{name.upper()}", camel(name)
        block = blocks.get(env)
        if block is None:
            problems.append(f"{env}: no env entry in deployment.yaml"
                            + _how_to_add(name, field))
            continue
        if is_secret(field):
            if f".Values.secrets.keys.{key}" not in block or "secretKeyRef" not in block:
                problems.append(f"{env}: must come from the Secret, key secrets.keys.{key}")
            schema_keys = props["secrets"]["properties"]["keys"]["properties"]
            if key not in vals["secrets"]["keys"] or key not in schema_keys:
                problems.append(f"{env}: secrets.keys.{key} missing from values or schema")
            if key in vals["config"]:
                problems.append(f"{env}: a secret must not be a config value")
        else:
            if f".Values.config.{key}" not in block:
                problems.append(f"{env}: not set from .Values.config.{key}")
            if key not in vals["config"] or key not in props["config"]["properties"]:
                problems.append(f"{env}: config.{key} missing from values or schema")
    # and nothing the application does not know
    unknown = set(blocks) - {f"ONCALL_{n.upper()}" for n in Settings.model_fields}
    assert not problems, "\n".join(problems)
    assert not unknown, f"env entries for no setting: {sorted(unknown)}"


def test_config_keys_are_settings_and_values_are_accepted(monkeypatch):
    """values.config has exactly the non-secret settings, and the environment the
    Deployment makes of values.yaml is accepted by bot/settings.py."""
    settings = {camel(n): n for n, f in Settings.model_fields.items() if not is_secret(f)}
    config = values()["config"]
    assert set(config) == set(settings)
    assert set(config) - {k for k, v in config.items() if v is None} >= IN_CLUSTER_DEFAULTS
    for key, value in config.items():
        if value is not None:  # null: no variable, the application default
            text = str(value).lower() if isinstance(value, bool) else str(value)
            monkeypatch.setenv(f"ONCALL_{settings[key].upper()}", text)
    effective = Settings(_env_file=None)
    for key, value in config.items():
        if value is not None:
            got = getattr(effective, settings[key])
            assert (str(got) if isinstance(got, Path) else got) == value, key


def test_database_url_from_secret_is_wired():
    deployment = (TEMPLATES / "deployment.yaml").read_text()
    assert "secrets.databaseUrlFromSecret" in deployment
    assert deployment.count("- name: ONCALL_DATABASE_URL") == 2  # plain, or from the Secret
    assert "fail" in (TEMPLATES / "_helpers.tpl").read_text()  # replicas > 1 on SQLite refused


# --------------------------------------------------------------------- RBAC --

def _rules(template: str) -> list[dict]:
    """The static `rules:` block of an RBAC template (no template actions inside)."""
    text = (TEMPLATES / template).read_text()
    block = []
    for line in text[text.index("\nrules:") + 1:].splitlines():
        if line.lstrip().startswith("{{"):
            break
        block.append(line)
    return yaml.safe_load("\n".join(block))["rules"]


def _triples(rules) -> set[tuple[str, str, str]]:
    return {(g, r, v) for rule in rules for g in rule["apiGroups"]
            for r in rule["resources"] for v in rule["verbs"]}


@pytest.mark.parametrize("template", ["clusterrole.yaml", "role.yaml"])
def test_rbac_is_read_only(template):
    triples = _triples(_rules(template))
    assert triples
    assert {v for _, _, v in triples} <= READ_VERBS
    assert {v for _, r, v in triples if r == "pods/log"} == {"get"}
    assert not {r for _, r, _ in triples} & {"secrets", "configmaps", "*"}
    assert not {g for g, _, _ in triples} & {"*"}
    risky = ("/exec", "/attach", "/portforward", "/proxy")
    assert not any(r.endswith(risky) for _, r, _ in triples)


def test_clusterrole_matches_the_code_allowlist():
    """The ClusterRole grants exactly what adapters/kube_allowlist.py may call."""
    allowlist = kube_allowlist()
    assert _triples(_rules("clusterrole.yaml")) == _triples(allowlist.rbac_rules())


def test_role_is_the_allowlist_without_cluster_scoped_kinds():
    allowlist = kube_allowlist()
    cluster_scoped = {(r.group, r.plural) for r in allowlist.READS.values() if not r.namespaced}
    expected = {t for t in _triples(allowlist.rbac_rules()) if (t[0], t[1]) not in cluster_scoped}
    assert _triples(_rules("role.yaml")) == expected
    assert ("", "nodes") in cluster_scoped


def test_rbac_variant_is_selected_by_a_value():
    assert 'eq .Values.rbac.scope "cluster"' in (TEMPLATES / "clusterrole.yaml").read_text()
    assert 'eq .Values.rbac.scope "cluster"' in (TEMPLATES / "clusterrolebinding.yaml").read_text()
    assert 'eq .Values.rbac.scope "namespace"' in (TEMPLATES / "role.yaml").read_text()
    assert 'eq .Values.rbac.scope "namespace"' in (TEMPLATES / "rolebinding.yaml").read_text()
    assert schema()["properties"]["rbac"]["properties"]["scope"]["enum"] == ["cluster", "namespace"]


# ---------------------------------------------------------------- security --

def test_security_context_probes_and_resources():
    vals = values()
    pod, ctr = vals["podSecurityContext"], vals["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0
    assert pod["seccompProfile"]["type"] == "RuntimeDefault"
    assert ctr["readOnlyRootFilesystem"] is True
    assert ctr["allowPrivilegeEscalation"] is False
    assert ctr["capabilities"]["drop"] == ["ALL"]
    assert ctr["seccompProfile"]["type"] == "RuntimeDefault"
    for kind in ("requests", "limits"):
        assert vals["resources"][kind]["memory"]
    assert vals["resources"]["requests"]["cpu"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert vals[probe]["httpGet"] == {"path": "/healthz", "port": "http"}

    deployment = (TEMPLATES / "deployment.yaml").read_text()
    for ref in ("toYaml .Values.podSecurityContext", "toYaml .Values.securityContext",
                "toYaml .Values.resources", "toYaml .Values.readinessProbe",
                "toYaml .Values.livenessProbe"):
        assert ref in deployment, ref


def test_writable_paths_are_emptydirs():
    deployment = (TEMPLATES / "deployment.yaml").read_text()
    multiproc = re.search(r"name: PROMETHEUS_MULTIPROC_DIR\s+value: (\S+)", deployment).group(1)
    mounts = dict(re.findall(r"- name: (\w+)\s+mountPath: (\S+)", deployment))
    assert mounts["tmp"] == "/tmp" and mounts["metrics"] == multiproc
    for volume in ("tmp", "metrics"):
        assert re.search(rf"- name: {volume}\s+emptyDir:", deployment), volume
    # the runbook index and SQLite live on the data volume, which the init container seeds
    vals = values()
    data = vals["persistence"]["mountPath"]
    assert vals["config"]["runbooksIndexDir"].startswith(data + "/")
    assert vals["config"]["databaseUrl"].startswith(f"sqlite:///{data}/")
    assert "/opt/oncall/assets/runbook-index/" in deployment
    assert "/opt/oncall/assets/runbook-index" in (ROOT / "Dockerfile").read_text()
    # the multiprocess directory is emptied before each start
    assert 'rm -rf \\"${PROMETHEUS_MULTIPROC_DIR:?}\\"/*' in deployment
    assert "exec oncall serve" in deployment


def test_image_user_matches_pod_security_context():
    uid = re.search(r"^USER (\d+)", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    assert values()["podSecurityContext"]["runAsUser"] == int(uid)


# ------------------------------------------------------------------- rules --

def _rule_file_command(path: Path) -> list[str]:
    for line in path.read_text().splitlines():
        m = re.match(r"#\s+oncall (slo rules .*)$", line)
        if m:
            return shlex.split(m.group(1))
    raise AssertionError(f"{path}: no `oncall slo rules` command in its header")


def test_bot_slo_rules_are_current_and_valid(tmp_path):
    path = CHART / "files" / "bot-slo-rules.yaml"
    args = _rule_file_command(path)
    assert "oncall_webhooks_total" in " ".join(args) and 'outcome="store_error"' in " ".join(args)
    body = "\n".join(line for line in path.read_text().splitlines() if not line.startswith("#"))
    assert yaml.safe_load(body) == yaml.safe_load(oncall_cli(*args)), \
        "regenerate files/bot-slo-rules.yaml with the command in its header"
    promtool_check(tmp_path, path.read_text())
    template = (TEMPLATES / "prometheusrule.yaml").read_text()
    assert '.Files.Get "files/bot-slo-rules.yaml"' in template


def test_bot_metric_of_the_slo_exists():
    from bot import metrics

    assert metrics.WEBHOOKS._name == "oncall_webhooks"  # exposed as oncall_webhooks_total
    server = (ROOT / "bot" / "server.py").read_text()
    assert '"store_error"' in server


# ------------------------------------------------------------------ deploy/ --

@pytest.mark.parametrize("path", sorted(DEPLOY.glob("*.yaml")), ids=lambda p: p.name)
def test_deploy_files_parse(path):
    docs = list(yaml.safe_load_all(path.read_text()))
    assert docs and all(isinstance(d, dict) for d in docs)


def test_kps_rules_are_generated_from_the_policy_and_valid(tmp_path):
    kps = yaml.safe_load((DEPLOY / "values-kps.yaml").read_text())
    rule_maps = kps["additionalPrometheusRulesMap"]
    groups = [g for rule_file in rule_maps.values() for g in rule_file["groups"]]
    out = oncall_cli("slo", "rules", "--policy", str(ROOT / "policies" / "slo.yaml"))
    expected = [g for doc in yaml.safe_load_all(out) if doc for g in doc["groups"]]
    assert groups == expected, "regenerate with: oncall slo rules --policy policies/slo.yaml"
    promtool_check(tmp_path, {"groups": groups})


def test_kps_alertmanager_posts_to_the_bot_with_a_token_file():
    kps = yaml.safe_load((DEPLOY / "values-kps.yaml").read_text())
    am = kps["alertmanager"]
    receivers = {r["name"]: r for r in am["config"]["receivers"]}
    hook = receivers["oncall-copilot"]["webhook_configs"][0]
    assert hook["url"].endswith("/alertmanager")
    assert hook["send_resolved"] is True
    auth = hook["http_config"]["authorization"]
    assert auth["type"] == "Bearer" and "credentials" not in auth
    secret = auth["credentials_file"].split("/")[4]
    assert auth["credentials_file"].startswith("/etc/alertmanager/secrets/")
    assert secret in am["alertmanagerSpec"]["secrets"]
    assert am["config"]["route"]["receiver"] == "oncall-copilot"
    # port and path agree with the chart's Service
    assert f":{values()['service']['port']}/alertmanager" in hook["url"]


def test_kps_selects_every_servicemonitor_and_rule():
    spec = yaml.safe_load((DEPLOY / "values-kps.yaml").read_text())["prometheus"]["prometheusSpec"]
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert spec["serviceMonitorSelector"] == {} and spec["serviceMonitorNamespaceSelector"] == {}
    assert spec["ruleSelectorNilUsesHelmValues"] is False
    days = int(re.fullmatch(r"(\d+)d", spec["retention"]).group(1))
    assert days > 3, "the slowest burn-rate window is 3d"


def _promtail_replace(line: str, stages: list[dict]) -> str:
    """Promtail's `replace` stage: every capture group of every match becomes `replace`."""
    for stage in stages:
        if "replace" not in stage:
            continue
        rx, repl = re.compile(stage["replace"]["expression"]), stage["replace"]["replace"]
        out, pos = [], 0
        for m in rx.finditer(line):
            for g in range(1, (rx.groups or 0) + 1):
                if m.start(g) >= 0:
                    out += [line[pos:m.start(g)], repl]
                    pos = m.end(g)
        line = "".join(out) + line[pos:]
    return line


SECRETS = {
    'GET /api Authorization: Bearer abc.DEF-123_xyz~/+=': "abc.DEF-123_xyz",
    "login failed for user=bob password=hunter2 from 10.0.0.1": "hunter2",
    '{"client_secret": "s3cr3t-value", "level": "info"}': "s3cr3t-value",
    "connecting to postgresql://oncall:pa55w0rd@db:5432/oncall": "pa55w0rd",
    "posting with xoxb-1234567890-abcdefghij": "xoxb-1234567890-abcdefghij",
    "sa token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLXBhcnQ": "eyJhbGci",
    "aws key AKIAIOSFODNN7EXAMPLE used": "AKIAIOSFODNN7EXAMPLE",
    "API_KEY: 0123456789abcdef": "0123456789abcdef",
}
BENIGN = [
    "GET /healthz 200 in 3ms",
    "Back-off restarting failed container api in pod checkout-7d9f",
    "secretName: tls-cert mounted",
]


def test_promtail_redacts_credentials_and_keeps_the_rest():
    loki = yaml.safe_load((DEPLOY / "values-loki.yaml").read_text())
    stages = loki["promtail"]["config"]["snippets"]["pipelineStages"]
    assert stages[0] == {"cri": {}}
    assert sum("replace" in s for s in stages) >= 4
    for line, secret in SECRETS.items():
        redacted = _promtail_replace(line, stages)
        assert secret not in redacted and "<redacted>" in redacted, (line, redacted)
    for line in BENIGN:
        assert _promtail_replace(line, stages) == line


def test_event_exporter_ships_events_where_the_bot_looks():
    loki = yaml.safe_load((DEPLOY / "values-loki.yaml").read_text())
    objects = {o["kind"]: o for o in loki["promtail"]["extraObjects"]}
    kinds = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment"}
    assert kinds <= set(objects)
    config = yaml.safe_load(objects["ConfigMap"]["data"]["config.yaml"])
    (receiver,) = config["receivers"]
    assert receiver["loki"]["url"].endswith("/loki/api/v1/push")
    assert "layout" not in receiver["loki"]  # whole Event JSON, as adapters/events.py parses
    job = receiver["loki"]["streamLabels"]["job"]
    # the bot's default selector {job=~".*event.*"} finds these lines
    selector = Settings.model_fields["loki_events_selector"].default
    pattern = re.search(r'job=~"([^"]+)"', selector).group(1)
    assert re.fullmatch(pattern, job)
    rules = _triples(objects["ClusterRole"]["rules"])
    assert {v for _, _, v in rules} <= READ_VERBS
    assert not {r for _, r, _ in rules} & {"secrets", "configmaps", "*"}
    image = objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert re.search(r":v\d+\.\d+", image) and not image.endswith(":latest")
