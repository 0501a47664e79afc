"""The Dockerfile, read as text: `docker build` cannot run here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, pending = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "dangling line continuation"
    return out


def stages() -> list[dict]:
    """One dict per FROM: base image (ARGs resolved), name and its instructions."""
    args, result = {}, []
    for word, rest in instructions():
        if word == "ARG" and not result:
            name, _, default = rest.partition("=")
            args[name] = default
        elif word == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            image = re.sub(r"\$\{?(\w+)\}?", lambda v: args.get(v.group(1), v.group(0)), m.group(1))
            result.append({"image": image, "name": m.group(2), "body": []})
        else:
            result[-1]["body"].append((word, rest))
    return result


def test_multi_stage_with_slim_pinned_bases():
    all_stages = stages()
    assert len(all_stages) >= 2
    names = {s["name"] for s in all_stages}
    external = [s["image"] for s in all_stages if s["image"] not in names]
    assert external
    for image in external:
        assert "latest" not in image, image
        assert re.search(r"@sha256:[0-9a-f]{64}$", image) or \
            re.search(r":\d+\.\d+\.\d+[\w.-]*$", image), f"{image}: pin an exact tag or a digest"
    assert "slim" in all_stages[-1]["image"] or "distroless" in all_stages[-1]["image"]


def test_runs_as_a_numeric_non_root_user():
    final = stages()[-1]["body"]
    users = [rest for word, rest in final if word == "USER"]
    assert users, "no USER in the final stage"
    assert re.fullmatch(r"\d+(:\d+)?", users[-1]), f"USER {users[-1]}: use a numeric uid"
    assert int(users[-1].split(":")[0]) != 0


def test_installs_from_the_lock_file_and_copies_the_project():
    body = [i for s in stages() for i in s["body"]]
    runs = " ".join(rest for word, rest in body if word == "RUN")
    copies = [rest for word, rest in body if word == "COPY"]
    assert re.search(r"pip install[^&]*-r requirements\.lock", runs)
    assert any("requirements.lock" in c for c in copies)
    assert any(re.fullmatch(r"\.\s+\.|\.\s+/app/?", c) for c in copies), copies
    assert not any(word == "ADD" and "://" in rest for word, rest in body), "no remote ADD"


def test_healthcheck_and_command():
    final = dict(stages()[-1]["body"])
    assert "/healthz" in final.get("HEALTHCHECK", ""), "HEALTHCHECK on /healthz"
    assert '"oncall", "serve"' in final["CMD"]
    port = Settings.model_fields["port"].default
    assert final["EXPOSE"] == str(port)


def test_no_secrets_in_the_image():
    for word, rest in instructions():
        if word in ("ENV", "ARG"):
            for name in re.findall(r"(\w+)=", rest) or [rest.split()[0]]:
                assert not re.search(r"TOKEN|PASSWORD|SECRET|API_KEY", name, re.I), f"{word} {name}"
    text = DOCKERFILE.read_text()
    assert "xoxb-" not in text and "BEGIN PRIVATE KEY" not in text


def test_image_settings_are_real_settings():
    known = {f"ONCALL_{n.upper()}" for n in Settings.model_fields}
    final = stages()[-1]["body"]
    env = " ".join(rest for word, rest in final if word == "ENV")
    names = set(re.findall(r"(ONCALL_\w+)=", env))
    assert names and names <= known, names - known


def test_bake_step_for_model_and_index_is_marked():
    text = DOCKERFILE.read_text()
    assert ">>> BAKE STEP" in text and "<<< BAKE STEP" in text
    assert "ARG BAKE_RUNBOOK_INDEX" in text
    assert re.search(r"COPY --from=assets \S+", text)


@pytest.mark.parametrize("pattern", [".git", ".venv", ".env", "*.db", "tests"])
def test_dockerignore_keeps_state_and_secrets_out(pattern):
    lines = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert pattern in lines
