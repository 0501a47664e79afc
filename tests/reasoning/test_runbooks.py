"""Runbooks and their retrieval: front matter coverage, exact matches, offline similarity,
and an index that re-embeds only what changed."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from reasoning.runbooks import BUILTIN_DIR, RunbookIndex, load_runbooks, parse_runbook, runbook_dirs
from reasoning.runbooks.embed import MiniLmEncoder
from reasoning.runbooks.match import exact_match, url_match

ROOT = Path(__file__).resolve().parents[2]
CAUSES = ["bad-deploy", "oom-killed", "crashloop-config", "image-pull", "scheduling-capacity",
          "node-failure", "dependency-down", "cpu-throttling", "disk-full", "traffic-surge",
          "cert-expiry"]
ALERTS = ["KubePodCrashLooping", "KubePodNotReady", "KubeDeploymentReplicasMismatch",
          "KubeDeploymentRolloutStuck", "KubeNodeNotReady", "KubeNodeUnreachable",
          "KubeCPUOvercommit", "KubeMemoryOvercommit", "CPUThrottlingHigh",
          "KubePersistentVolumeFillingUp", "KubeHpaMaxedOut", "KubeJobFailed", "TargetDown",
          "KubeContainerWaiting", "NodeFilesystemSpaceFillingUp", "KubeStatefulSetReplicasMismatch",
          "KubePersistentVolumeErrors", "NodeMemoryHighUtilization", "KubeAPIErrorBudgetBurn"]
SUBSET = ["oom-killed", "crashloop-config", "kube-pod-crashlooping", "dependency-down",
          "cert-expiry", "disk-full", "traffic-surge"]


# --- the shipped runbooks -------------------------------------------------------------

def shipped() -> list:
    files = sorted(p for p in BUILTIN_DIR.glob("*.md") if p.name != "README.md")
    return [parse_runbook(p) for p in files]  # raises on any broken front matter


def test_every_runbook_parses_with_checks_and_mitigation():
    books = shipped()
    assert len(books) >= len(CAUSES)
    for book in books:
        headings = {s.heading for s in book.sections}
        assert book.title and book.causes, book.path
        assert "Checks" in headings and ({"Mitigation", "Branch by exit reason",
                                          "Branch by waiting reason"} & headings), book.path
        assert set(book.causes) <= set(CAUSES), f"{book.path}: unknown cause {book.causes}"


def test_every_cause_has_its_own_runbook():
    by_stem = {b.stem: b for b in shipped()}
    for cause in CAUSES:
        assert cause in by_stem[cause].causes


def test_every_listed_alert_is_covered():
    listed = {a for b in shipped() for a in b.alerts}
    assert set(ALERTS) <= listed, sorted(set(ALERTS) - listed)


def test_broken_runbook_is_skipped_not_fatal(tmp_path):
    (tmp_path / "good.md").write_text("---\ntitle: Good\nalerts: [A]\n---\n# Good\n\ntext\n")
    (tmp_path / "bad.md").write_text("---\nalerts: [unclosed\n---\n")
    (tmp_path / "plain.md").write_text("# no front matter\n")
    (tmp_path / "README.md").write_text("# index of my runbooks\n")
    assert [b.stem for b in load_runbooks([tmp_path])] == ["good"]


def test_runbook_dirs_from_setting(monkeypatch):
    from bot.settings import Settings

    monkeypatch.setenv("ONCALL_RUNBOOKS_DIRS", "/srv/rb-a:/srv/rb-b,~/rb-c")
    dirs = runbook_dirs(Settings(_env_file=None).runbooks_dirs)
    assert dirs[0] == BUILTIN_DIR and dirs[1:3] == [Path("/srv/rb-a"), Path("/srv/rb-b")]
    assert dirs[3] == Path("~/rb-c").expanduser()


def test_url_matching_without_the_model():
    books = {b.stem: b for b in shipped()}
    assert url_match(books["oom-killed"], "https://git.example/sre/runbooks/oom-killed.md")[0]
    assert not url_match(books["disk-full"], "https://git.example/sre/runbooks/oom-killed.md")[0]
    hit, section = url_match(books["oom-killed"], "https://wiki.example/x#oom-killed")
    assert hit and section is None
    kube = "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping"
    m = exact_match(books["kube-pod-crashlooping"], text="", alertname=None, runbook_url=kube,
                    signatures=(), reasons=())
    assert m.score > 2 and "runbook_url" in m.why[0]


def test_importing_loads_no_model_or_database():
    heavy = "('chromadb', 'onnxruntime', 'tokenizers')"
    code = f"import sys, reasoning.runbooks; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# --- the index, offline ---------------------------------------------------------------

@pytest.fixture(scope="module")
def offline():
    """HF_HUB_OFFLINE=1 and no connection anywhere but loopback/unix sockets."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else ""
        if self.family != socket.AF_UNIX and host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"network disabled in this test: {address}")
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in (None, "127.0.0.1", "::1", "localhost"):
            raise socket.gaierror(f"network disabled in this test: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket, "getaddrinfo", getaddrinfo)
        yield


@pytest.fixture(scope="module")
def encoder(offline) -> MiniLmEncoder:
    return MiniLmEncoder()


@pytest.fixture(scope="module")
def index(tmp_path_factory, encoder) -> RunbookIndex:
    books = tmp_path_factory.mktemp("runbooks")
    for stem in SUBSET:
        shutil.copy(BUILTIN_DIR / f"{stem}.md", books)
    idx = RunbookIndex([books], tmp_path_factory.mktemp("index"), encoder=encoder)
    assert idx.ensure() is True and idx.error is None
    return idx


def stems(hits) -> list[str]:
    return [Path(h.source_path).stem for h in hits]


def test_exact_alertname_beats_similarity(index):
    text = "dial tcp 10.0.0.7:5432: connect: connection refused from the orders database"
    assert stems(index.search(text, k=1)) == ["dependency-down"]
    hits = index.search(text, alertname="KubePodCrashLooping", k=4)
    assert stems(hits)[0] == "kube-pod-crashlooping"
    listing = {"kube-pod-crashlooping", "oom-killed", "crashloop-config"}
    assert set(stems(hits)[:3]) == listing  # every runbook listing the alert first
    assert "KubePodCrashLooping is listed" in hits[0].why


def test_runbook_url_beats_alertname(index):
    hits = index.search("", alertname="KubePodCrashLooping",
                        runbook_url="https://git.example.com/sre/runbooks/blob/main/disk-full.md")
    assert stems(hits)[0] == "disk-full" and "runbook_url" in hits[0].why
    assert hits[0].section == "Checks" and "kubelet_volume_stats" in hits[0].excerpt


@pytest.mark.parametrize("query, expected", [
    ("the database is not answering and every call to it times out", "dependency-down"),
    ("browsers warn that the https padlock on our shop is broken", "cert-expiry"),
    ("we get five times the usual number of requests since the campaign started",
     "traffic-surge"),
])
def test_semantic_query_finds_the_runbook(index, query, expected):
    hits = index.search(query)
    assert stems(hits)[0] == expected
    assert "similar to" in hits[0].why and hits[0].excerpt


def test_signatures_and_reasons_from_evidence(index):
    hits = index.search("", signatures=["Last State: Terminated, Reason: OOMKilled"],
                        reasons=["OOMKilling"])
    assert stems(hits)[0] == "oom-killed"
    assert "'OOMKilled'" in hits[0].why and "OOMKilling" in hits[0].why


def test_index_reused_when_unchanged_and_updated_when_a_runbook_changes(tmp_path, encoder):
    books = tmp_path / "runbooks"
    books.mkdir()
    for stem in ("image-pull", "kube-quota"):
        shutil.copy(BUILTIN_DIR / f"{stem}.md", books)
    first = RunbookIndex([books], tmp_path / "index", encoder=encoder)
    assert first.ensure() is True
    total = first.chunk_count()

    again = RunbookIndex([books], tmp_path / "index", encoder=encoder)  # a restart
    assert again.ensure() is False and again.embedded == 0 and again.chunk_count() == total
    assert again.ensure() is False

    quota = books / "kube-quota.md"
    quota.write_text(quota.read_text() + "\n## Escalation\nPage the platform team that owns "
                     "the namespace budgets; they approve every quota raise.\n")
    assert again.ensure() is True
    assert 1 <= again.embedded < total  # only the changed file's chunks
    assert again.chunk_count() == total + 1
    hit = again.search("who approves raising a namespace budget", k=1)[0]
    assert Path(hit.source_path).stem == "kube-quota" and hit.section == "Escalation"

    (books / "image-pull.md").unlink()
    assert again.ensure() is True and again.embedded == 0
    assert {Path(b.path).stem for b in again.runbooks} == {"kube-quota"}
    assert again.chunk_count() < total


def test_without_the_model_exact_matches_still_answer(tmp_path, offline):
    broken = MiniLmEncoder(model_path=tmp_path / "missing.onnx")
    idx = RunbookIndex([BUILTIN_DIR], tmp_path / "index", encoder=broken)
    hits = idx.search("pods restarting", alertname="KubePodCrashLooping")
    assert idx.error and "missing.onnx" in idx.error
    assert stems(hits)[0] == "kube-pod-crashlooping"
