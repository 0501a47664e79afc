"""`oncall` fails with one line and a non-zero exit; `--debug` shows the traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def oncall(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=60, env={**os.environ, **env})


def test_an_unexpected_error_is_one_line_and_exit_1(tmp_path):
    out = oncall("status", ONCALL_DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/x.db")
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: OperationalError: ")
    assert "unable to open database file" in lines[0] and "--debug" in lines[0]
    assert "Traceback" not in out.stderr and "╭" not in out.stderr


def test_debug_flag_and_env_show_the_traceback(tmp_path):
    url = f"sqlite:///{tmp_path}/missing/dir/x.db"
    for out in (oncall("--debug", "status", ONCALL_DATABASE_URL=url),
                oncall("status", ONCALL_DATABASE_URL=url, ONCALL_DEBUG="1")):
        assert out.returncode == 1
        assert "Traceback (most recent call last)" in out.stderr
        assert "sqlite3.OperationalError" in out.stderr


def test_bad_usage_stays_exit_2_with_the_usage_line():
    out = oncall("status", "--no-such-option")
    assert out.returncode == 2
    assert "No such option" in out.stderr and "Traceback" not in out.stderr


def test_a_known_failure_prints_no_spinner_when_piped(tmp_path):
    """health against sources that are not there: one line, exit 1, nothing else on stderr."""
    out = oncall("health", "--format", "text", ONCALL_PROMETHEUS_URL="http://127.0.0.1:9",
                 ONCALL_KUBE_API_URL="http://127.0.0.1:9", KUBECONFIG=str(tmp_path / "none"))
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0 and out.stderr.startswith("error: ")
    assert out.stdout == ""


def _commands(cmd, path=()):
    import click

    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _commands(sub, (*path, name))


def test_every_option_of_every_command_has_a_one_line_help():
    import click
    import typer.main

    from bot.cli import app

    missing = []
    for path, cmd in _commands(typer.main.get_command(app)):
        assert (cmd.help or "").strip() or not path, f"oncall {' '.join(path)} has no help"
        for param in cmd.params:
            if isinstance(param, click.Option) and param.name not in {
                    "help", "install_completion", "show_completion"}:
                if not (param.help or "").strip():
                    missing.append(f"oncall {' '.join(path)} {param.opts[0]}")
    assert not missing, missing


def test_readme_has_an_example_session_for_each_workflow_command():
    readme = (ROOT / "README.md").read_text()
    for command in ("health", "triage", "slo-prom", "canary-gate", "canary-prom", "cost",
                    "agent-run --once"):
        assert f"oncall {command}" in readme, command
